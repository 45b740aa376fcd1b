/**
 * The trigger's durable step: the ownership check, the idempotency key and the event's append,
 * for the triggers of one event-loop turn in one transaction (a group commit).
 *
 * On SQLite every write is serial on one connection anyway, and the statements around a
 * trigger's row (BEGIN, COMMIT, the transaction's set-up) cost more than the row itself: the
 * commit was the most expensive statement of a trigger. On PostgreSQL a batch would run its
 * statements one after another on one connection where separate transactions run in parallel
 * on the pool, so there a batch holds one trigger (`maxBatch` 1: no waiting for the turn).
 *
 * Each trigger first decides without writing (its checks may refuse it with a client error,
 * which leaves the others alone), then writes. A write that fails rolls the whole batch back and
 * fails every trigger in it with that error: nothing of the batch was committed.
 */
import type { Kysely } from "kysely";
import { InvalidInputError, NotFoundError, type AppError } from "../../app-error";
import type { DatabaseSchema } from "../../db/schema";
import type { OutboxRecord, OutboxRepository } from "../log/outbox.repository";
import { draftTodoEvent, type TodoEventDraft } from "../todo-event";
import type { TriggerRequest } from "../todo-event-rules";
import type { IdempotencyKeyRepository } from "./idempotency-key.repository";
import type { TaskOwnership } from "./task-ownership";

export interface TriggerAppend {
  readonly userId: string;
  readonly request: TriggerRequest;
  /** The idempotency key with the digest of what its request asks for; absent without a key. */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
  readonly traceparent?: string;
}

/** `claimed`: the trigger publishes the row itself; `queued`: the relay publishes it after the user's earlier rows. */
export type Appended =
  | { readonly kind: "claimed" | "queued"; readonly record: OutboxRecord }
  | { readonly kind: "existing"; readonly eventId: string };

export interface TriggerAppendsDependencies {
  readonly db: Kysely<DatabaseSchema>;
  readonly log: OutboxRepository;
  readonly keys: IdempotencyKeyRepository;
  readonly tasks: TaskOwnership;
  /** Triggers per transaction; 1 runs each at once in its own. */
  readonly maxBatch: number;
  /** How long an idempotency key is kept. */
  readonly idempotencyWindowMs: number;
  /** Until when a claimed row is left alone by the relay. */
  readonly claimDeadline: (now: Date) => Date;
  readonly now: () => Date;
}

interface Refused {
  readonly kind: "refused";
  readonly error: AppError;
}

type Decision =
  | Refused
  | { readonly kind: "existing"; readonly eventId: string }
  | { readonly kind: "append"; readonly queued: boolean; readonly draft: TodoEventDraft; readonly now: Date };

interface Waiting {
  readonly append: TriggerAppend;
  resolve(appended: Appended): void;
  reject(error: unknown): void;
}

export class TriggerAppends {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly deps: TriggerAppendsDependencies) {}

  /** Resolves once the trigger's row (or the key's earlier event) is committed. */
  append(append: TriggerAppend): Promise<Appended> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { append, resolve, reject };
      if (this.deps.maxBatch <= 1) {
        void this.commit([waiting]);
        return;
      }
      this.waiting.push(waiting);
      if (this.scheduled) return;
      this.scheduled = true;
      // After the current turn: every request read in this turn has asked by then.
      setImmediate(() => {
        this.scheduled = false;
        const all = this.waiting;
        this.waiting = [];
        for (let start = 0; start < all.length; start += this.deps.maxBatch) {
          void this.commit(all.slice(start, start + this.deps.maxBatch));
        }
      });
    });
  }

  private async commit(batch: readonly Waiting[]): Promise<void> {
    const outcomes: (Appended | Refused)[] = [];
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        // Sorted, so batches of several instances never take two users' locks in opposite orders.
        const users = [...new Set(batch.map((waiting) => waiting.append.userId))].sort();
        for (const userId of users) await this.deps.log.serialiseUserWrites(trx, userId);
        for (const { append } of batch) outcomes.push(await this.apply(trx, append, await this.decide(trx, append)));
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome.kind === "refused") waiting.reject(outcome.error);
      else waiting.resolve(outcome);
    });
  }

  /** Reads only: a refusal is answered to its trigger alone, and leaves the batch's transaction as it was. */
  private async decide(trx: Kysely<DatabaseSchema>, append: TriggerAppend): Promise<Decision> {
    const { userId, request, idempotency } = append;
    // The seed never checked this: an event may only name one of the caller's own todos.
    if (!(await this.deps.tasks.isOwnedBy(userId, request.taskId, trx))) {
      return { kind: "refused", error: new NotFoundError("Todo") };
    }
    const now = this.deps.now();
    if (idempotency !== undefined) {
      const stored = await this.deps.keys.find(trx, userId, idempotency.key, now);
      if (stored !== undefined) {
        if (stored.fingerprint !== idempotency.fingerprint) {
          const error = new InvalidInputError("input.idempotencyKey", "was already used for a different event");
          return { kind: "refused", error };
        }
        return { kind: "existing", eventId: stored.eventId };
      }
    }
    // Publishing now is only safe for the order when nothing of the user's is still waiting.
    const queued = await this.deps.log.hasPending(trx, userId);
    const draft = draftTodoEvent({
      action: request.action,
      taskId: request.taskId,
      userId,
      details: request.details ?? {},
      occurredAt: now,
    });
    return { kind: "append", queued, draft, now };
  }

  private async apply(
    trx: Kysely<DatabaseSchema>,
    append: TriggerAppend,
    decision: Decision,
  ): Promise<Appended | Refused> {
    if (decision.kind !== "append") return decision;
    const { draft, now, queued } = decision;
    const { id, payload } = await this.deps.log.append(trx, draft, {
      ...(append.traceparent === undefined ? {} : { traceparent: append.traceparent }),
      ...(queued ? {} : { claimUntil: this.deps.claimDeadline(now) }),
    });
    if (append.idempotency !== undefined) {
      await this.deps.keys.remember(trx, {
        userId: append.userId,
        key: append.idempotency.key,
        fingerprint: append.idempotency.fingerprint,
        eventId: draft.event_id,
        expiresAt: new Date(now.getTime() + this.deps.idempotencyWindowMs),
      });
    }
    const record: OutboxRecord = {
      id,
      sequence: payload.sequence,
      event: payload,
      status: "PENDING",
      attempts: 0,
      lastError: null,
      createdAt: now,
      nextAttemptAt: now,
      publishedAt: null,
      traceparent: append.traceparent ?? null,
    };
    return { kind: queued ? "queued" : "claimed", record };
  }
}
