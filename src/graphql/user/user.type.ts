import { Field, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "The caller, as proven by the JWT." })
export class User {
  @Field(() => ID, { description: "The verified subject (JWT `sub` or the configured claim)." })
  id!: string;
}
