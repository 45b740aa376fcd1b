import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { JsonObject } from "../../events/todo-event";
import { connectionTypes } from "../pagination";

export enum TodoEventStatus {
  PENDING = "PENDING",
  PUBLISHED = "PUBLISHED",
}
registerEnumType(TodoEventStatus, { name: "TodoEventStatus", description: "Where an event is in the outbox." });

@ObjectType({ description: "An event caused by the caller's todo mutations, as recorded in the outbox." })
export class TodoEvent {
  @Field(() => ID, { description: "The CloudEvent id consumers see (payload event_id)." })
  eventId!: string;

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

  @Field(() => String, { nullable: true, description: "Why the last attempt failed, while the event is pending." })
  lastError!: string | null;

  @Field(() => Date, { nullable: true })
  publishedAt!: Date | null;
}

export const TodoEventConnection = connectionTypes(TodoEvent, "TodoEvent");
