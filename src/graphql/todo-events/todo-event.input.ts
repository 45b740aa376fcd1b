import { GraphQLJSONObject } from "graphql-scalars";
import { Field, InputType } from "type-graphql";
import type { JsonObject } from "../../events/todo-event";
import { MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH } from "../../events/todo-event-rules";

@InputType({ description: "An event a client asks to emit for one of its todos. The user is never part of the input." })
export class TodoEventInput {
  @Field(() => String, { description: "Event name, matching ^[a-z][a-z0-9_.-]{0,63}$ (e.g. task_created)." })
  action!: string;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: `Free-form JSON object, at most ${MAX_DETAILS_BYTES / 1024} KiB serialised and nested at most ${MAX_DETAILS_DEPTH} levels.`,
  })
  details?: JsonObject | null;

  @Field(() => String, {
    nullable: true,
    description: "Makes retries safe: the same key from the same user returns the same eventId for 24 hours.",
  })
  idempotencyKey?: string | null;
}
