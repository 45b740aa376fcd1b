/**
 * Marks of rows that triggers published themselves, on SQLite and PostgreSQL: the marks of one
 * turn share one UPDATE, the relay is told about users with events left behind the claims, and a
 * refused batch fails every trigger in it rather than answering success for an unmarked row.
 */
import { draftTodoEvent } from "../../../../src/events/todo-event";
import { OutboxRepository } from "../../../../src/events/log/outbox.repository";
import { PublishedMarks } from "../../../../src/events/trigger/published-marks";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../../support/databases";

describe.each(DIALECTS)("published marks on %s", (dialect) => {
  let database: TestDatabase;
  let log: OutboxRepository;
  let queuedNotices: number;
  let marks: PublishedMarks;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
    log = new OutboxRepository(database.dialect);
    queuedNotices = 0;
    marks = new PublishedMarks({
      db: database.db,
      log,
      onEventQueued: () => (queuedNotices += 1),
      now: () => new Date("2026-12-01T12:00:00.000Z"),
    });
  });
  afterEach(() => database.dispose());

  async function appendFor(userId: string): Promise<number> {
    return database.db.transaction().execute(async (trx) => {
      await log.serialiseUserWrites(trx, userId);
      const draft = draftTodoEvent({ action: "task_updated", taskId: 1, userId, details: {}, occurredAt: new Date() });
      return (await log.append(trx, draft)).id;
    });
  }

  async function statusOf(id: number): Promise<string | undefined> {
    const row = await database.db.selectFrom("outbox").select("status").where("id", "=", id).executeTakeFirst();
    return row?.status;
  }

  it("writes the marks of one turn with a single UPDATE and resolves each once written", async () => {
    const ids = [await appendFor("alice"), await appendFor("bob"), await appendFor("carol")];
    const markPublished = jest.spyOn(log, "markPublished");

    await Promise.all([marks.mark(ids[0], "alice"), marks.mark(ids[1], "bob"), marks.mark(ids[2], "carol")]);

    expect(markPublished).toHaveBeenCalledTimes(1);
    expect(markPublished.mock.calls[0]?.[1]).toEqual(ids);
    expect(await Promise.all(ids.map(statusOf))).toEqual(["PUBLISHED", "PUBLISHED", "PUBLISHED"]);
    // Nothing of these users is left pending: the relay is not disturbed.
    expect(queuedNotices).toBe(0);
  });

  it("marks of later turns go in later batches", async () => {
    const first = await appendFor("alice");
    const second = await appendFor("alice");
    const markPublished = jest.spyOn(log, "markPublished");

    await marks.mark(first, "alice");
    await marks.mark(second, "alice");

    expect(markPublished).toHaveBeenCalledTimes(2);
    expect(await statusOf(second)).toBe("PUBLISHED");
  });

  it("tells the relay once when a marked user has an event still pending behind the claim", async () => {
    const claimed = await appendFor("alice");
    const heldBack = await appendFor("alice");
    const other = await appendFor("bob");

    await Promise.all([marks.mark(claimed, "alice"), marks.mark(other, "bob")]);

    expect(queuedNotices).toBe(1);
    expect(await statusOf(heldBack)).toBe("PENDING");
  });

  it("rejects every mark of a batch the database refused, and leaves the rows pending", async () => {
    const ids = [await appendFor("alice"), await appendFor("bob")];
    jest.spyOn(log, "markPublished").mockRejectedValueOnce(new Error("disk I/O error"));

    const outcomes = await Promise.allSettled(ids.map((id, index) => marks.mark(id, index === 0 ? "alice" : "bob")));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await Promise.all(ids.map(statusOf))).toEqual(["PENDING", "PENDING"]);
  });
});
