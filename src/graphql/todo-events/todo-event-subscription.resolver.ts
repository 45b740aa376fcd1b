import { Authorized, Resolver, Root, Subscription, type PubSub } from "type-graphql";
import type { TodoEventPayload } from "../../events/todo-event";
import { authenticatedUser, type GraphQLContext } from "../context";
import { todoEventOfDelivery } from "./todo-event.mapper";
import { TodoEvent } from "./todo-event.type";

@Resolver()
export class TodoEventSubscriptionResolver {
  @Authorized()
  @Subscription(() => TodoEvent, {
    name: "todoEvents",
    description: "The caller's own events as Dapr delivers them (after they reached the broker); never another user's.",
    subscribe: ({ context }) => {
      const graphqlContext = context as GraphQLContext;
      return graphqlContext.services.todoEventFeed.subscribe(authenticatedUser(graphqlContext).id);
    },
  })
  todoEventDelivered(@Root() event: TodoEventPayload): TodoEvent {
    return todoEventOfDelivery(event);
  }
}

/**
 * type-graphql insists on a PubSub once any subscription exists, even when
 * every subscription brings its own `subscribe`. Ours route through the
 * per-request context (so each server instance has its own feed); this one
 * only fails loudly if a topic-based subscription is ever added by mistake.
 */
export const contextRoutedSubscriptions: PubSub = {
  publish() {
    throw new Error("subscriptions are routed through context.services.todoEventFeed, not a PubSub topic");
  },
  subscribe() {
    throw new Error("subscriptions are routed through context.services.todoEventFeed, not a PubSub topic");
  },
};
