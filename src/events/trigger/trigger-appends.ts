/**
 * The trigger's durable step: the ownership check, the idempotency key and the event's append.
 * Its refusals (not the caller's task, a key reused for other content) all come before it
 * writes, so it runs as checked work of the group commit: on SQLite the triggers of one turn
 * share a transaction without a savepoint each.
 */
import type { Kysely } from "kysely";
import { InvalidInputError, NotFoundError } from "../../app-error";
import type { GroupCommit } from "../../db/group-commit";
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
  readonly writes: GroupCommit;
  readonly log: OutboxRepository;
  readonly keys: IdempotencyKeyRepository;
  readonly tasks: TaskOwnership;
  /** How long an idempotency key is kept. */
  readonly idempotencyWindowMs: number;
  /** Until when a claimed row is left alone by the relay. */
  readonly claimDeadline: (now: Date) => Date;
  readonly now: () => Date;
}

type Decision =
  | { readonly kind: "existing"; readonly eventId: string }
  | { readonly kind: "append"; readonly queued: boolean; readonly draft: TodoEventDraft; readonly now: Date };

export class TriggerAppends {
  constructor(private readonly deps: TriggerAppendsDependencies) {}

  /** Resolves once the trigger's row (or the key's earlier event) is committed. */
  append(append: TriggerAppend): Promise<Appended> {
    return this.deps.writes.runChecked({
      check: async (trx) => {
        await this.deps.log.serialiseUserWrites(trx, append.userId);
        return this.decide(trx, append);
      },
      write: (trx, decision) => this.apply(trx, append, decision),
    });
  }

  /** Reads only. */
  private async decide(trx: Kysely<DatabaseSchema>, append: TriggerAppend): Promise<Decision> {
    const { userId, request, idempotency } = append;
    // The seed never checked this: an event may only name one of the caller's own todos.
    if (!(await this.deps.tasks.isOwnedBy(userId, request.taskId, trx))) throw new NotFoundError("Todo");
    const now = this.deps.now();
    if (idempotency !== undefined) {
      const stored = await this.deps.keys.find(trx, userId, idempotency.key, now);
      if (stored !== undefined) {
        if (stored.fingerprint !== idempotency.fingerprint) {
          throw new InvalidInputError("input.idempotencyKey", "was already used for a different event");
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

  private async apply(trx: Kysely<DatabaseSchema>, append: TriggerAppend, decision: Decision): Promise<Appended> {
    if (decision.kind === "existing") return decision;
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
