/**
 * `triggerTodoEvent` on top of the event log, with the seed's semantics: the
 * event is appended (with the user's next sequence) in one transaction with
 * the ownership check and the idempotency key, published synchronously, and
 * marked PUBLISHED before the answer; a publish that fails or times out marks
 * it FAILED and answers EVENT_PUBLISH_FAILED.
 *
 * Order per user holds because a trigger publishes its event itself only when
 * none of the user's earlier events is still pending; it then claims the row,
 * so the relay holds back the user's later events until the claim is settled.
 * Otherwise the relay publishes it after the earlier ones, and the trigger
 * waits for that, within the same publish timeout.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError } from "../../app-error";
import type { AuthenticatedUser } from "../../auth/access-token";
import type { GroupCommit } from "../../db/group-commit";
import type { DatabaseSchema } from "../../db/schema";
import { ErrorCode } from "../../error-codes";
import type { Logger } from "../../logging/logger";
import type { EventPublisher } from "../event-publisher";
import type { OutboxRecord, OutboxRepository } from "../log/outbox.repository";
import type { TodoEventPayload } from "../todo-event";
import { assertValidTriggerRequest, type TriggerRequest } from "../todo-event-rules";
import type { IdempotencyKeyRepository } from "./idempotency-key.repository";
import { PublishedMarks } from "./published-marks";
import { TriggerAppends } from "./trigger-appends";
import type { TaskOwnership } from "./task-ownership";

export class EventPublishFailedError extends AppError {
  constructor(
    readonly eventId: string,
    readonly sequence: number,
  ) {
    // The client learns the event so it can retry with its idempotency key knowingly.
    super(ErrorCode.EVENT_PUBLISH_FAILED, "Failed to publish event", { eventId, sequence });
  }
}

export interface TriggeredEvent {
  readonly eventId: string;
  readonly sequence: number;
  /** True when an earlier request with the same idempotency key already published it. */
  readonly replayed: boolean;
}

export interface TriggerContext {
  readonly log: Logger;
  readonly traceparent?: string;
}

export interface TriggerServiceDependencies {
  readonly db: Kysely<DatabaseSchema>;
  readonly log: OutboxRepository;
  readonly keys: IdempotencyKeyRepository;
  readonly publisher: EventPublisher;
  readonly tasks: TaskOwnership;
  /** How long one publish may take; also how long a trigger waits for the relay to publish its event. */
  readonly publishTimeoutMs: number;
  /** How long an idempotency key is kept. */
  readonly idempotencyWindowMs: number;
  /** Where the append's transaction runs (on SQLite the triggers of one turn share a commit). */
  readonly writes: GroupCommit;
  /** Tells the relay that an event is waiting for it. */
  readonly onEventQueued: () => void;
  readonly now?: () => Date;
}

/** A claim outlives the publish it covers, so a slow answer never lets the relay publish the row too. */
const CLAIM_MARGIN_MS = 5000;
/** How often a trigger looks at a row it waits for: quickly at first, then more calmly. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 50;

export class TriggerService {
  private readonly now: () => Date;
  private readonly published: PublishedMarks;
  private readonly appends: TriggerAppends;

  constructor(private readonly deps: TriggerServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
    this.published = new PublishedMarks({
      db: deps.db,
      log: deps.log,
      onEventQueued: deps.onEventQueued,
      now: this.now,
    });
    this.appends = new TriggerAppends({
      writes: deps.writes,
      log: deps.log,
      keys: deps.keys,
      tasks: deps.tasks,
      idempotencyWindowMs: deps.idempotencyWindowMs,
      claimDeadline: (now) => this.claimDeadline(now),
      now: this.now,
    });
  }

  async trigger(user: AuthenticatedUser, request: TriggerRequest, context: TriggerContext): Promise<TriggeredEvent> {
    const serialisedDetails = assertValidTriggerRequest(request);
    const key = request.idempotencyKey ?? undefined;
    const fingerprint =
      key === undefined ? undefined : digestOf(`${request.taskId}\u0000${request.action}\u0000${serialisedDetails}`);
    const appended = await this.appends.append({
      userId: user.id,
      request,
      ...(key === undefined || fingerprint === undefined ? {} : { idempotency: { key, fingerprint } }),
      ...(context.traceparent === undefined ? {} : { traceparent: context.traceparent }),
    });

    switch (appended.kind) {
      case "claimed":
        return this.publishClaimed(appended.record, context, false);
      case "queued":
        this.deps.onEventQueued();
        return this.awaitRelay(appended.record, context, { owned: true, replayed: false });
      case "existing":
        return this.retry(appended.eventId, context);
    }
  }

  /** A retry with the same key: the same row is answered, or published again if it failed. */
  private async retry(eventId: string, context: TriggerContext): Promise<TriggeredEvent> {
    const record = await this.deps.log.findByEventId(this.deps.db, eventId);
    if (record === undefined) {
      // Retention removed the row; only published or failed rows are ever removed.
      throw new EventPublishFailedError(eventId, 0);
    }
    if (record.status === "PUBLISHED") return { eventId, sequence: record.sequence, replayed: true };
    if (record.status === "FAILED") {
      // Behind earlier pending events of the user it goes back to the relay's queue, as a queued
      // trigger does; otherwise whoever claims it publishes it. A concurrent retry that loses
      // either race waits for the outcome.
      if (await this.deps.log.hasPending(this.deps.db, record.event.user_id)) {
        if (await this.deps.log.requeueFailed(this.deps.db, record.id, this.now())) {
          this.deps.onEventQueued();
          return this.awaitRelay(record, context, { owned: true, replayed: false });
        }
      } else if (await this.deps.log.claimFailed(this.deps.db, record.id, this.claimDeadline(this.now()))) {
        return this.publishClaimed(record, context, false);
      }
    }
    return this.awaitRelay(record, context, { owned: false, replayed: true });
  }

  private async publishClaimed(
    record: OutboxRecord,
    context: TriggerContext,
    replayed: boolean,
  ): Promise<TriggeredEvent> {
    const event = record.event;
    const outcome = await this.deps.publisher.publish(
      event,
      record.traceparent === null ? {} : { traceparent: record.traceparent },
    );
    if (outcome.ok) {
      // Also tells the relay about the user's later events, which the claim held back. A success
      // is not logged: the row (PUBLISHED, published_at) and todo_events_published_total record it.
      await this.published.mark(record.id, event.user_id);
      return { eventId: event.event_id, sequence: event.sequence, replayed };
    }
    await this.deps.log.markTriggerFailed(this.deps.db, record.id, `${outcome.reason}: ${outcome.detail}`, this.now());
    await this.releaseHeldBack(event.user_id);
    context.log.error(
      { ...this.deps.publisher.destination, ...identify(event), reason: outcome.reason, detail: outcome.detail },
      "event publish failed",
    );
    throw new EventPublishFailedError(event.event_id, event.sequence);
  }

  /**
   * Waits for the row to leave PENDING: the relay publishing it after the user's earlier events,
   * or another request's publish of it. A row of this request's own that is still pending at
   * the deadline is marked FAILED, so the relay will not publish it after the client was told.
   */
  private async awaitRelay(
    record: OutboxRecord,
    context: TriggerContext,
    { owned, replayed }: { owned: boolean; replayed: boolean },
  ): Promise<TriggeredEvent> {
    const event = record.event;
    const deadline = this.now().getTime() + this.deps.publishTimeoutMs;
    let pollMs = FIRST_POLL_MS;
    for (;;) {
      const current = await this.deps.log.findById(this.deps.db, record.id);
      if (current?.status === "PUBLISHED") return { eventId: event.event_id, sequence: event.sequence, replayed };
      if (current === undefined || current.status === "FAILED") break;
      if (this.now().getTime() >= deadline) {
        const reason = "timeout: the relay did not publish the event in time";
        if (owned && !(await this.deps.log.markTriggerFailed(this.deps.db, record.id, reason, this.now()))) {
          // The relay published it just now.
          return this.awaitRelay(record, context, { owned: false, replayed });
        }
        context.log.error({ ...this.deps.publisher.destination, ...identify(event), reason }, "event publish failed");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
    }
    throw new EventPublishFailedError(event.event_id, event.sequence);
  }

  /** The claim held the user's later events back; the relay takes them at once rather than at its next poll. */
  private async releaseHeldBack(userId: string): Promise<void> {
    if (await this.deps.log.hasPending(this.deps.db, userId)) this.deps.onEventQueued();
  }

  private claimDeadline(now: Date): Date {
    return new Date(now.getTime() + this.deps.publishTimeoutMs + CLAIM_MARGIN_MS);
  }
}

function identify(event: TodoEventPayload): Record<string, unknown> {
  return { userId: event.user_id, eventId: event.event_id, sequence: event.sequence, action: event.action };
}

/** The key's first request as a digest: 16 KiB of details need not be kept for a day per key. */
function digestOf(fingerprint: string): string {
  return createHash("sha256").update(fingerprint, "utf8").digest("base64url");
}
