import type { AuthenticatedUser } from "../auth/access-token";
import type { EventHistoryService } from "../events/log/event-history.service";
import type { TodoEventSubscriptions } from "../events/delivery/resumed-subscription";
import type { TodoEventFeed } from "../events/delivery/todo-event-feed";
import type { TriggerService } from "../events/trigger/trigger.service";
import type { Logger } from "../logging/logger";
import type { TodoService } from "../todos/todo.service";

/** What resolvers may use; tests build one with in-memory parts. */
export interface Services {
  readonly todos: TodoService;
  readonly triggers: TriggerService;
  readonly eventHistory: EventHistoryService;
  /** Live events for subscriptions, fed by the Dapr delivery route. */
  readonly todoEventFeed: TodoEventFeed;
  /** Subscriptions, resumed from the log after a sequence when asked. */
  readonly subscriptions: TodoEventSubscriptions;
}

/** Built once per request (HTTP) or per operation (WebSocket). */
export interface GraphQLContext {
  /** The verified JWT subject, or null for an anonymous request. */
  readonly user: AuthenticatedUser | null;
  readonly requestId: string;
  readonly log: Logger;
  readonly services: Services;
  readonly traceparent?: string;
  /** The peer's address (HTTP); charged for anonymous operations. */
  readonly clientAddress?: string;
}

/** Narrows the user for resolvers behind `@Authorized()`. */
export function authenticatedUser(context: GraphQLContext): AuthenticatedUser {
  if (context.user === null) throw new Error("authenticatedUser() called on an unauthenticated context");
  return context.user;
}
