import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { requireAuthenticatedUser } from "../auth/auth-checker";
import { TodoEventHistoryResolver } from "./todo-events/todo-event-history.resolver";
import { TodoEventResolver } from "./todo-events/todo-event.resolver";
import {
  contextRoutedSubscriptions,
  TodoEventSubscriptionResolver,
} from "./todo-events/todo-event-subscription.resolver";
import { TodoResolver } from "./todos/todo.resolver";
import { MeResolver } from "./user/me.resolver";

/** Built once per process: schema construction is far too slow for a request path. */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [MeResolver, TodoResolver, TodoEventResolver, TodoEventHistoryResolver, TodoEventSubscriptionResolver],
    pubSub: contextRoutedSubscriptions,
    authChecker: requireAuthenticatedUser,
    // Input rules live in the services (each violation names its field); no decorator validation.
    validate: false,
  });
}
