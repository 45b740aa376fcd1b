import { Arg, Authorized, Int, Resolver, Root, Subscription, type PubSub } from "type-graphql";
import type { SubscribedEvent } from "../../events/delivery/resumed-subscription";
import { authenticatedUser, type GraphQLContext } from "../context";
import { todoEventOfSubscription } from "./todo-event.mapper";
import { TodoEvent } from "./todo-event.type";

@Resolver()
export class TodoEventSubscriptionResolver {
  @Authorized()
  @Subscription(() => TodoEvent, {
    name: "todoEvents",
    description:
      "The caller's own events, never another user's: live as Dapr delivers them, or, with afterSequence, first every " +
      "logged event after that sequence in order, then live, with no gap and no duplicate at the switch.",
    subscribe: ({ context, args }) => {
      const graphqlContext = context as GraphQLContext;
      const { afterSequence } = args as { afterSequence?: number | null };
      return graphqlContext.services.subscriptions.subscribe(authenticatedUser(graphqlContext).id, afterSequence);
    },
  })
  todoEventDelivered(
    @Root() event: SubscribedEvent,
    @Arg("afterSequence", () => Int, {
      nullable: true,
      description: "The last sequence the client saw; an older one than the retained log is CURSOR_EXPIRED.",
    })
    _afterSequence?: number | null,
  ): TodoEvent {
    return todoEventOfSubscription(event);
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
