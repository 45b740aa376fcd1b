import { Authorized, Ctx, Query, Resolver } from "type-graphql";
import { authenticatedUser, type GraphQLContext } from "../context";
import { User } from "./user.type";

@Resolver()
export class MeResolver {
  @Authorized()
  @Query(() => User, { description: "The authenticated caller." })
  me(@Ctx() context: GraphQLContext): User {
    return { id: authenticatedUser(context).id };
  }
}
