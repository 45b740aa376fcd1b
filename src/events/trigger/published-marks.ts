/**
 * Marks the rows that triggers published themselves as PUBLISHED, in batches. The publishes of one
 * turn of the event loop go to daprd in one bulk request (the coalescing publisher) and are
 * answered together; their marks then share one UPDATE, which on SQLite is one commit instead of
 * one per trigger (a commit measured about 30 µs of CPU), and one look for events of those users
 * that waited behind the claims.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";
import { TurnBatcher } from "../../shared/turn-batcher";
import type { OutboxRepository } from "../log/outbox.repository";

interface Mark {
  readonly id: number;
  readonly userId: string;
  readonly settled: { resolve(): void; reject(error: unknown): void };
}

/** Rows per UPDATE, well under the bound-parameter limits of SQLite (32766) and PostgreSQL (65535). */
const MAX_BATCH = 500;

export class PublishedMarks {
  private readonly turns = new TurnBatcher<Mark>(MAX_BATCH, (batch) => void this.write(batch));

  constructor(
    private readonly deps: {
      readonly db: Kysely<DatabaseSchema>;
      readonly log: OutboxRepository;
      /** Told when a marked user has events still pending: the relay takes them at once, not at its next poll. */
      readonly onEventQueued: () => void;
      readonly now: () => Date;
    },
  ) {}

  /** Resolves once the row is marked; rejects when the database refused the batch it was in. */
  mark(id: number, userId: string): Promise<void> {
    // After the current turn: every trigger answered by the same bulk publish has marked by then.
    return new Promise((resolve, reject) => this.turns.add({ id, userId, settled: { resolve, reject } }));
  }

  private async write(batch: readonly Mark[]): Promise<void> {
    try {
      await this.deps.log.markPublished(
        this.deps.db,
        batch.map((mark) => mark.id),
        this.deps.now(),
      );
      const users = [...new Set(batch.map((mark) => mark.userId))];
      if (await this.deps.log.anyPending(this.deps.db, users)) this.deps.onEventQueued();
    } catch (error) {
      for (const mark of batch) mark.settled.reject(error);
      return;
    }
    for (const mark of batch) mark.settled.resolve();
  }
}
