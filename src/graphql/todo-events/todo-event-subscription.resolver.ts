import { Authorized, Resolver, Root, Subscription, type PubSub } from "type-graphql";
import type { TodoEvent as DeliveredEvent } from "../../events/todo-event";
import { authenticatedUser, type GraphQLContext } from "../context";
import { TodoEvent, TodoEventStatus } from "./todo-event.type";

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
  todoEventDelivered(@Root() event: DeliveredEvent): TodoEvent {
    return {
      eventId: event.event_id,
      action: event.action,
      taskId: event.task_id,
      details: event.details,
      occurredAt: new Date(event.occurred_at),
      // It came back from the broker, so it was published; attempts are the outbox's business.
      status: TodoEventStatus.PUBLISHED,
      attempts: null,
      lastError: null,
      publishedAt: null,
    };
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
