/** How much the outbox still has to publish: for /readyz and the backlog gauges, not for users. */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";
import type { OutboxBacklog, OutboxRepository } from "./outbox.repository";

export class OutboxBacklogReader {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly outbox: OutboxRepository,
  ) {}

  read(): Promise<OutboxBacklog> {
    return this.outbox.backlog(this.db, new Date());
  }
}
