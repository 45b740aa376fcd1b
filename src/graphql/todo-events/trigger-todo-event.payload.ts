import { Field, ID, Int, ObjectType } from "type-graphql";

@ObjectType()
export class TriggerTodoEventPayload {
  @Field(() => Boolean)
  success!: boolean;

  @Field(() => String)
  message!: string;

  @Field(() => ID, { description: "The CloudEvent id consumers see; stable across idempotent retries." })
  eventId!: string;

  @Field(() => Int, { description: "The event's number in the caller's log; stable across idempotent retries." })
  sequence!: number;
}
