import { Field, InputType } from "type-graphql";
import type { Priority } from "../../todos/todo";
import { MAX_SEARCH_LENGTH } from "../../todos/todo.service";
import { PriorityEnum } from "./todo.type";

@InputType()
export class CreateTodoInput {
  @Field(() => String, { description: "1–200 characters (trimmed)." })
  title!: string;

  @Field(() => String, { nullable: true, description: "At most 2000 characters." })
  description?: string | null;

  @Field(() => PriorityEnum, { nullable: true, description: "Defaults to MEDIUM." })
  priority?: Priority | null;

  @Field(() => Date, { nullable: true })
  dueAt?: Date | null;

  @Field(() => String, {
    nullable: true,
    description: "A retry with the same key returns the same todo and emits no second event.",
  })
  idempotencyKey?: string | null;
}

@InputType({ description: "Only the fields given change; null clears description or dueAt." })
export class UpdateTodoInput {
  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => PriorityEnum, { nullable: true })
  priority?: Priority | null;

  @Field(() => Date, { nullable: true })
  dueAt?: Date | null;

  @Field(() => Boolean, { nullable: true })
  completed?: boolean | null;
}

@InputType()
export class TodoFilter {
  @Field(() => Boolean, { nullable: true })
  completed?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: `Case-insensitive text in the title or description, at most ${MAX_SEARCH_LENGTH} characters.`,
  })
  search?: string | null;
}
