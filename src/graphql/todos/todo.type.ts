import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { PRIORITIES, type Priority } from "../../todos/todo";
import { connectionTypes } from "../pagination";

export const PriorityEnum = Object.fromEntries(PRIORITIES.map((priority) => [priority, priority])) as {
  [P in Priority]: P;
};
registerEnumType(PriorityEnum, { name: "Priority" });

@ObjectType({ description: "A todo; only its owner can see or change it." })
export class Todo {
  @Field(() => Int)
  id!: number;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Boolean)
  completed!: boolean;

  @Field(() => PriorityEnum)
  priority!: Priority;

  @Field(() => Date, { nullable: true })
  dueAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

export const TodoConnection = connectionTypes(Todo, "Todo");

@ObjectType()
export class DeleteTodoPayload {
  @Field(() => Boolean)
  success!: boolean;

  @Field(() => Int, { description: "The id of the deleted todo." })
  id!: number;
}
