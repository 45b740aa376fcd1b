import { Field, ID, ObjectType } from "type-graphql";

@ObjectType()
export class TriggerTodoEventPayload {
  @Field(() => Boolean)
  success!: boolean;

  @Field(() => String)
  message!: string;

  @Field(() => ID, { description: "The CloudEvent id consumers see; stable across idempotent retries." })
  eventId!: string;
}
