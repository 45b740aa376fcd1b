import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { JsonObject } from "../../events/todo-event";
import { connectionTypes } from "../pagination";

export enum TodoEventStatus {
  PENDING = "PENDING",
  PUBLISHED = "PUBLISHED",
  FAILED = "FAILED",
}
registerEnumType(TodoEventStatus, {
  name: "TodoEventStatus",
  description: "Where an event is in the log.",
  valuesConfig: {
    PENDING: { description: "Waiting to be published." },
    PUBLISHED: { description: "Accepted by the broker." },
    FAILED: {
      description: "A triggerTodoEvent whose publish failed: never relayed; its sequence is a gap in the topic.",
    },
  },
});

@ObjectType({
  description: "One of the caller's events, triggered or caused by a todo mutation, as recorded in the log.",
})
export class TodoEvent {
  @Field(() => ID, { description: "The CloudEvent id consumers see (payload event_id)." })
  eventId!: string;

  @Field(() => Int, {
    description: "The caller's event number: 1, 2, 3, … in the order the events happened (payload sequence).",
  })
  sequence!: number;

  @Field(() => String)
  action!: string;

  @Field(() => Int)
  taskId!: number;

  @Field(() => GraphQLJSONObject)
  details!: JsonObject;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => TodoEventStatus)
  status!: TodoEventStatus;

  @Field(() => Int, { nullable: true, description: "Publish attempts so far (null on live subscription deliveries)." })
  attempts!: number | null;

  @Field(() => String, { nullable: true, description: "Why the last attempt failed (pending or failed events)." })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  publishedAt!: Date | null;
}

export const TodoEventConnection = connectionTypes(TodoEvent, "TodoEvent");
