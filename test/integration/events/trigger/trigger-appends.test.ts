/**
 * The trigger's appends through the group commit, on SQLite and PostgreSQL: the triggers of one
 * turn share one transaction, a refused trigger leaves the others of its batch committed, a
 * failed write leaves none of them, and a batch of one (PostgreSQL's setting) gives every
 * trigger its own.
 */
import { NotFoundError, InvalidInputError } from "../../../../src/app-error";
import { GroupCommit } from "../../../../src/db/group-commit";
import { IdempotencyKeyRepository } from "../../../../src/events/trigger/idempotency-key.repository";
import { OutboxRepository } from "../../../../src/events/log/outbox.repository";
import { TriggerAppends, type TriggerAppend } from "../../../../src/events/trigger/trigger-appends";
import type { TaskOwnership } from "../../../../src/events/trigger/task-ownership";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../../support/databases";

const NOW = new Date("2026-12-01T12:00:00.000Z");
const OWNED_TASK = 7;
const OTHERS_TASK = 8;

/** Every user owns task 7 and nobody owns task 8. */
const tasks: TaskOwnership = { isOwnedBy: (_userId, taskId) => Promise.resolve(taskId === OWNED_TASK) };

function triggerOf(userId: string, extra: Partial<TriggerAppend> = {}): TriggerAppend {
  return { userId, request: { taskId: OWNED_TASK, action: "task_nudged", details: { n: 1 } }, ...extra };
}

describe.each(DIALECTS)("trigger appends on %s", (dialect) => {
  let database: TestDatabase;
  let log: OutboxRepository;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
    log = new OutboxRepository(database.dialect);
  });
  afterEach(() => database.dispose());

  function appendsOf(maxBatch: number): TriggerAppends {
    return new TriggerAppends({
      writes: new GroupCommit(database.db, maxBatch),
      log,
      keys: new IdempotencyKeyRepository(),
      tasks,
      idempotencyWindowMs: 60_000,
      claimDeadline: (now) => new Date(now.getTime() + 10_000),
      now: () => NOW,
    });
  }

  async function rowCount(): Promise<number> {
    const row = await database.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it("commits the triggers of one turn in one transaction, each user with its own sequence", async () => {
    const appends = appendsOf(64);
    const transaction = jest.spyOn(database.db, "transaction");

    const appended = await Promise.all([
      appends.append(triggerOf("alice")),
      appends.append(triggerOf("bob")),
      appends.append(triggerOf("alice")),
    ]);

    expect(transaction).toHaveBeenCalledTimes(1);
    const [first, second, third] = appended.map((outcome) => (outcome.kind === "existing" ? undefined : outcome));
    expect([first?.record.event.user_id, first?.record.sequence]).toEqual(["alice", 1]);
    expect([second?.record.event.user_id, second?.record.sequence]).toEqual(["bob", 1]);
    expect([third?.record.event.user_id, third?.record.sequence]).toEqual(["alice", 2]);
    // Alice's second waits behind her first, which the batch committed before it.
    expect(appended.map((outcome) => outcome.kind)).toEqual(["claimed", "claimed", "queued"]);
    expect(await rowCount()).toBe(3);
  });

  it("refuses a trigger for a task that is not the caller's and commits the rest of its batch", async () => {
    const appends = appendsOf(64);

    const outcomes = await Promise.allSettled([
      appends.append(triggerOf("alice")),
      appends.append(triggerOf("bob", { request: { taskId: OTHERS_TASK, action: "task_nudged" } })),
      appends.append(triggerOf("carol")),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]?.status === "rejected" && outcomes[1].reason).toBeInstanceOf(NotFoundError);
    expect(await rowCount()).toBe(2);
  });

  it("answers a key used twice in one batch with the first trigger's event, and refuses it for other content", async () => {
    const appends = appendsOf(64);
    const idempotency = { key: "k-1", fingerprint: "digest-a" };

    const outcomes = await Promise.allSettled([
      appends.append(triggerOf("alice", { idempotency })),
      appends.append(triggerOf("alice", { idempotency })),
      appends.append(triggerOf("alice", { idempotency: { key: "k-1", fingerprint: "digest-b" } })),
    ]);

    const [first, second, third] = outcomes;
    const firstEventId =
      first?.status === "fulfilled" && first.value.kind === "claimed" && first.value.record.event.event_id;
    expect(second?.status === "fulfilled" && second.value).toEqual({ kind: "existing", eventId: firstEventId });
    expect(third?.status === "rejected" && third.reason).toBeInstanceOf(InvalidInputError);
    expect(await rowCount()).toBe(1);
  });

  it("fails every trigger of a batch whose write the database refused, and commits none of them", async () => {
    const appends = appendsOf(64);
    const append = log.append.bind(log);
    jest.spyOn(log, "append").mockImplementationOnce(append).mockRejectedValueOnce(new Error("disk I/O error"));

    const outcomes = await Promise.allSettled([appends.append(triggerOf("alice")), appends.append(triggerOf("bob"))]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await rowCount()).toBe(0);
  });

  it("gives every trigger its own transaction when a batch holds one", async () => {
    const appends = appendsOf(1);
    const transaction = jest.spyOn(database.db, "transaction");

    await Promise.all([appends.append(triggerOf("alice")), appends.append(triggerOf("bob"))]);

    expect(transaction).toHaveBeenCalledTimes(2);
    expect(await rowCount()).toBe(2);
  });

  it("splits a turn with more triggers than a batch holds into several transactions", async () => {
    const appends = appendsOf(2);
    const transaction = jest.spyOn(database.db, "transaction");

    await Promise.all(["a", "b", "c", "d", "e"].map((userId) => appends.append(triggerOf(userId))));

    expect(transaction).toHaveBeenCalledTimes(3);
    expect(await rowCount()).toBe(5);
  });
});
