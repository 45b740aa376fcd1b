/** A user's own event history, read from the outbox (newest first). */
import type { Kysely } from "kysely";
import { InvalidInputError } from "../app-error";
import type { AuthenticatedUser } from "../auth/access-token";
import type { DatabaseSchema } from "../db/schema";
import type { OutboxBacklog, OutboxRecord, OutboxRepository } from "./outbox.repository";

export const MAX_HISTORY_PAGE = 100;

export class EventHistoryService {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly outbox: OutboxRepository,
  ) {}

  async page(
    user: AuthenticatedUser,
    first: number | null | undefined,
    afterId: number | undefined,
  ): Promise<{ items: OutboxRecord[]; hasNextPage: boolean }> {
    const limit = first ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new InvalidInputError("first", `must be between 1 and ${MAX_HISTORY_PAGE}`);
    }
    const rows = await this.outbox.history(this.db, user.id, limit + 1, afterId);
    return { items: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }

  backlog(): Promise<OutboxBacklog> {
    return this.outbox.backlog(this.db, new Date());
  }
}
