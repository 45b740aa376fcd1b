/** A user's own event history, read from the outbox (newest first). */
import type { Kysely } from "kysely";
import type { AuthenticatedUser } from "../../auth/access-token";
import type { DatabaseSchema } from "../../db/schema";
import { pageSizeOf, type Page } from "../../shared/page";
import type { OutboxRecord, OutboxRepository } from "./outbox.repository";

export class EventHistoryService {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly outbox: OutboxRepository,
  ) {}

  async page(
    user: AuthenticatedUser,
    first: number | null | undefined,
    /** The sequence of the last event of the previous page. */
    afterSequence: number | undefined,
  ): Promise<Page<OutboxRecord>> {
    const limit = pageSizeOf(first);
    const rows = await this.outbox.history(this.db, user.id, limit + 1, afterSequence);
    return { items: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }
}
