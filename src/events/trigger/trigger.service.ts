/**
 * `triggerTodoEvent`'s rules: validate, bind the event to the verified user,
 * publish synchronously (the seed's semantics) and report a failure as
 * EVENT_PUBLISH_FAILED without taking the server down.
 */
import { randomUUID } from "node:crypto";
import { AppError, InvalidInputError, NotFoundError } from "../../app-error";
import { ErrorCode } from "../../error-codes";
import type { AuthenticatedUser } from "../../auth/access-token";
import type { Logger } from "../../logging/logger";
import type { EventPublisher, PublishOutcome } from "../event-publisher";
import type { IdempotencyKeys } from "./idempotency-keys";
import type { TaskOwnership } from "./task-ownership";
import { createTodoEvent } from "../todo-event";
import { assertValidTriggerRequest, type TriggerRequest } from "../todo-event-rules";

export class EventPublishFailedError extends AppError {
  constructor(readonly eventId: string) {
    // The client learns the event id so it can retry with its idempotency key knowingly.
    super(ErrorCode.EVENT_PUBLISH_FAILED, "Failed to publish event", { eventId });
  }
}

export interface TriggeredEvent {
  readonly eventId: string;
  /** True when an earlier request with the same idempotency key already published it. */
  readonly replayed: boolean;
}

export interface TriggerContext {
  readonly log: Logger;
  readonly traceparent?: string;
}

export interface TriggerServiceDependencies {
  readonly publisher: EventPublisher;
  readonly idempotencyKeys: IdempotencyKeys;
  readonly tasks: TaskOwnership;
}

export class TriggerService {
  private readonly publisher: EventPublisher;
  private readonly idempotencyKeys: IdempotencyKeys;
  private readonly tasks: TaskOwnership;

  constructor(deps: TriggerServiceDependencies) {
    ({ publisher: this.publisher, idempotencyKeys: this.idempotencyKeys, tasks: this.tasks } = deps);
  }

  /** How much the idempotency store holds now; bounded by its options. */
  get idempotencyKeyUsage(): { readonly entries: number; readonly estimatedBytes: number } {
    return { entries: this.idempotencyKeys.size, estimatedBytes: this.idempotencyKeys.estimatedBytes };
  }

  async trigger(user: AuthenticatedUser, request: TriggerRequest, context: TriggerContext): Promise<TriggeredEvent> {
    const serialisedDetails = assertValidTriggerRequest(request);
    // The seed never checked this: an event may only name one of the caller's own todos.
    if (!(await this.tasks.isOwnedBy(user.id, request.taskId))) throw new NotFoundError("Todo");
    const key = request.idempotencyKey ?? undefined;
    if (key === undefined) {
      const eventId = randomUUID();
      await this.publishOrFail(user, request, eventId, context);
      return { eventId, replayed: false };
    }

    // The store keeps only a digest of this, however large the details.
    const fingerprint = `${request.taskId}\u0000${request.action}\u0000${serialisedDetails}`;
    const reservation = this.idempotencyKeys.reserve(user.id, key, fingerprint, randomUUID);
    switch (reservation.kind) {
      case "conflict":
        throw new InvalidInputError("input.idempotencyKey", "was already used for a different event");
      case "published":
        return { eventId: reservation.eventId, replayed: true };
      case "in-flight": {
        const outcome = await reservation.outcome;
        if (!outcome.ok) throw new EventPublishFailedError(reservation.eventId);
        return { eventId: reservation.eventId, replayed: true };
      }
      case "new":
      case "retry":
        await this.publishOrFail(user, request, reservation.eventId, context, (outcome) =>
          this.idempotencyKeys.track(reservation, outcome),
        );
        return { eventId: reservation.eventId, replayed: false };
    }
  }

  private async publishOrFail(
    user: AuthenticatedUser,
    request: TriggerRequest,
    eventId: string,
    context: TriggerContext,
    onPublishStarted?: (outcome: Promise<PublishOutcome>) => void,
  ): Promise<void> {
    const event = createTodoEvent({
      eventId,
      action: request.action,
      taskId: request.taskId,
      userId: user.id,
      details: request.details ?? {},
    });
    const pending = this.publisher.publish(event, { traceparent: context.traceparent });
    onPublishStarted?.(pending);
    const outcome = await pending;
    const where = { ...this.publisher.destination, userId: user.id, eventId, action: event.action };
    if (outcome.ok) {
      context.log.info(where, "event published");
      return;
    }
    context.log.error({ ...where, reason: outcome.reason, detail: outcome.detail }, "event publish failed");
    throw new EventPublishFailedError(eventId);
  }
}
