/**
 * The database's storage fills up under the running API: SQLite's file, then PostgreSQL's whole
 * data directory, each on a small tmpfs made here (root only; without it the suite fails with
 * the reason). Mutations fail with SERVICE_UNAVAILABLE and write nothing, those committed
 * together and those sent over the WebSocket alike; reads go on, /readyz says why, nothing
 * acknowledged is lost, and once the space is back mutations succeed again without a restart
 * and the relay publishes everything.
 */
import { print } from "graphql";
import { openDatabase, type Database } from "../../src/db/database";
import { CreateTodoDocument, ListTodosDocument, MeDocument } from "../generated/graphql";
import { startTempPostgres, type TempPostgres } from "../stack/postgres";
import { runOverSocket } from "../support/graphql-ws-client";
import { recordingLogger, type LogLine } from "../support/recording-logger";
import { mountSizeLimitedFilesystem, type SizeLimitedFilesystem } from "../support/size-limited-filesystem";
import { asUser, postGraphQL, startTestServer, type TestServer } from "../support/test-server";

const USER = "full-disk-user";
/** Mutations that may still fit in pages already allocated after the filler took the rest. */
const MAX_MUTATIONS_UNTIL_REFUSED = 3000;

interface Engine {
  readonly name: string;
  readonly filesystemBytes: number;
  /** What the driver says when a write finds no space. */
  readonly fullDiskCode: string;
  open(filesystem: SizeLimitedFilesystem): Promise<{ database: Database; stop(): void }>;
}

const ENGINES: readonly Engine[] = [
  {
    name: "SQLite",
    filesystemBytes: 4 * 1024 * 1024,
    fullDiskCode: "SQLITE_FULL",
    async open(filesystem) {
      return { database: await openDatabase(`sqlite:${filesystem.path}/todos.db`), stop: () => undefined };
    },
  },
  {
    name: "PostgreSQL",
    // initdb's cluster, pg_wal's first 16 MiB segment included, takes about 40 MiB.
    filesystemBytes: 80 * 1024 * 1024,
    fullDiskCode: "53100",
    async open(filesystem) {
      const postgres: TempPostgres = startTempPostgres("full-disk-pg", { under: filesystem.path });
      try {
        return { database: await openDatabase(postgres.url, { poolSize: 4 }), stop: () => postgres.stop() };
      } catch (error) {
        postgres.stop();
        throw error;
      }
    },
  },
];

type CreateOutcome = { readonly id: number } | { readonly code: unknown; readonly reason: unknown; message: string };

/** A created todo's id, or the first error's code, reason and message, whichever transport answered. */
function outcomeOf(
  id: number | undefined,
  error: { readonly message?: string; readonly extensions?: Record<string, unknown> } | undefined,
): CreateOutcome {
  if (id !== undefined) return { id };
  return { code: error?.extensions?.code, reason: error?.extensions?.reason, message: error?.message ?? "" };
}

async function createTodo(origin: string, title: string): Promise<CreateOutcome> {
  const { body } = await postGraphQL(origin, CreateTodoDocument, { input: { title } }, asUser(USER));
  return outcomeOf(body.data?.createTodo.id, body.errors?.[0]);
}

/** The same mutation over the WebSocket, which runs the same policy and error formatting. */
async function createTodoOverSocket(origin: string, title: string): Promise<CreateOutcome> {
  const result = await runOverSocket(origin, asUser(USER).authorization, print(CreateTodoDocument), {
    input: { title },
  });
  const data = result.data as { createTodo?: { id: number } } | null | undefined;
  return outcomeOf(data?.createTodo?.id, result.errors?.[0]);
}

const STORAGE_FULL = {
  code: "SERVICE_UNAVAILABLE",
  reason: "storage_full",
  message: "The database's storage is full; the change was not saved. Retry later",
};

async function readyz(origin: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

describe.each(ENGINES)("$name on a full filesystem", (engine) => {
  let filesystem: SizeLimitedFilesystem;
  let stopDatabase: (() => void) | undefined;
  let database: Database;
  let server: TestServer;
  let logLines: LogLine[];

  beforeAll(async () => {
    filesystem = mountSizeLimitedFilesystem("full-disk", engine.filesystemBytes);
    const opened = await engine.open(filesystem);
    database = opened.database;
    stopDatabase = opened.stop;
    const recording = recordingLogger();
    logLines = recording.lines;
    server = await startTestServer({ database, logger: recording.logger });
  }, 60_000);

  afterAll(async () => {
    try {
      await server?.stop();
      await database?.close();
      stopDatabase?.();
    } finally {
      filesystem?.unmount();
    }
  }, 60_000);

  const acknowledged: number[] = [];
  const refused: { title: string; outcome: CreateOutcome }[] = [];
  let acknowledgedAfterFill = 0;

  it("refuses mutations with SERVICE_UNAVAILABLE once the storage is full", async () => {
    for (let i = 0; i < 20; i++) {
      const outcome = await createTodo(server.origin, `before the disk filled ${i}`);
      if (!("id" in outcome)) throw new Error(`createTodo failed before the disk was full: ${outcome.message}`);
      acknowledged.push(outcome.id);
    }
    filesystem.fill();
    expect(filesystem.freeBytes()).toBe(0);
    const beforeFill = acknowledged.length;

    // Pages already allocated take a few more rows; the refusals start when none is left.
    for (let i = 0; refused.length < 5 && i < MAX_MUTATIONS_UNTIL_REFUSED; i++) {
      const title = `while the disk is full ${i}`;
      const outcome = await createTodo(server.origin, title);
      if ("id" in outcome) acknowledged.push(outcome.id);
      else refused.push({ title, outcome });
    }

    acknowledgedAfterFill = acknowledged.length - beforeFill;
    expect(refused.length).toBe(5);
    for (const { outcome } of refused) expect(outcome).toEqual(STORAGE_FULL);
    // Operators see why, as a warning with the driver's own error; nothing is logged as our fault.
    const warnings = logLines.filter((line) => line.msg === "database unavailable");
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toMatchObject({ level: 40, err: { code: engine.fullDiskCode } });
    expect(logLines.filter((line) => line.level >= 50)).toEqual([]);
  }, 120_000);

  it("refuses concurrent mutations alike, those committed together included", async () => {
    // Sent at once, a round's mutations reach the database in one turn: on SQLite one group
    // commit. A few may still fit in pages already allocated; none may fail in any other way.
    let refusedRounds = 0;
    for (let round = 0; refusedRounds < 2 && round < MAX_MUTATIONS_UNTIL_REFUSED / 6; round++) {
      const titles = Array.from({ length: 6 }, (_, i) => `together ${round}.${i}`);
      const outcomes = await Promise.all(titles.map((title) => createTodo(server.origin, title)));
      for (const [index, outcome] of outcomes.entries()) {
        if ("id" in outcome) acknowledged.push(outcome.id);
        else {
          expect(outcome).toEqual(STORAGE_FULL);
          refused.push({ title: titles[index] ?? "", outcome });
        }
      }
      if (outcomes.some((outcome) => !("id" in outcome))) refusedRounds += 1;
    }

    expect(refusedRounds).toBe(2);
  }, 120_000);

  it("refuses mutations over the WebSocket with the same code", async () => {
    const overSocket: CreateOutcome[] = [];
    for (let i = 0; overSocket.length < 2 && i < MAX_MUTATIONS_UNTIL_REFUSED; i++) {
      const title = `over the socket ${i}`;
      const outcome = await createTodoOverSocket(server.origin, title);
      if ("id" in outcome) acknowledged.push(outcome.id);
      else {
        overSocket.push(outcome);
        refused.push({ title, outcome });
      }
    }

    expect(overSocket).toEqual([STORAGE_FULL, STORAGE_FULL]);
  }, 120_000);

  it("keeps answering reads", async () => {
    const me = await postGraphQL(server.origin, MeDocument, {}, asUser(USER));
    const list = await postGraphQL(server.origin, ListTodosDocument, { first: 5 }, asUser(USER));

    expect(me.body.errors).toBeUndefined();
    expect(list.body.errors).toBeUndefined();
    expect(list.body.data?.todos.edges).toHaveLength(5);
  });

  it("says on /readyz that the storage is full, staying ready for reads", async () => {
    const { status, body } = await readyz(server.origin);

    expect(status).toBe(200);
    expect(body.status).toBe("read-only: database storage full");
    expect(body.checks).toMatchObject({ database: "reachable", storage: { state: "full" } });
  });

  it("wrote nothing of a refused mutation and lost nothing acknowledged", async () => {
    const todos = await database.db.selectFrom("todos").select(["id", "title"]).where("user_id", "=", USER).execute();
    const events = await database.db
      .selectFrom("outbox")
      .select(["task_id", "sequence"])
      .where("user_id", "=", USER)
      .orderBy("sequence")
      .execute();

    expect(todos.map((todo) => todo.id).sort((a, b) => a - b)).toEqual([...acknowledged].sort((a, b) => a - b));
    const refusedTitles = new Set(refused.map((attempt) => attempt.title));
    expect(todos.filter((todo) => refusedTitles.has(todo.title))).toEqual([]);
    // One task_created per acknowledged todo, sequences 1..n without a gap: no event of a refused one.
    expect(events.map((event) => event.task_id).sort((a, b) => a - b)).toEqual([...acknowledged].sort((a, b) => a - b));
    expect(events.map((event) => event.sequence)).toEqual(acknowledged.map((_, i) => i + 1));
  });

  it("takes mutations again once space is freed, without a restart, and publishes every acknowledged event", async () => {
    filesystem.free();

    const outcome = await createTodo(server.origin, "after the space came back");
    if ("id" in outcome) acknowledged.push(outcome.id);
    const published = (): number[] =>
      server.publisher.published.filter((m) => m.payload.user_id === USER).map((m) => m.payload.task_id);
    await waitFor(
      () => acknowledged.every((id) => published().includes(id)),
      "the relay to publish every acknowledged event",
    ).catch(() => undefined); // the assertion below names what is missing
    const ready = await readyz(server.origin);
    const publishedTaskIds = new Set(published());

    process.stderr.write(
      `[full-disk] ${JSON.stringify({
        engine: engine.name,
        filesystemBytes: engine.filesystemBytes,
        acknowledged: acknowledged.length,
        acknowledgedAfterFill: acknowledgedAfterFill,
        refused: refused.length,
        refusedCodes: [...new Set(refused.map((attempt) => ("code" in attempt.outcome ? attempt.outcome.code : "ok")))],
        published: publishedTaskIds.size,
        // Republished by the relay when it could publish but not mark (same event ids).
        duplicates: published().length - publishedTaskIds.size,
        lost: acknowledged.filter((id) => !publishedTaskIds.has(id)).length,
      })}\n`,
    );
    expect(outcome).toEqual({ id: expect.any(Number) });
    expect(ready.body.status).toBe("ready");
    expect(acknowledged.filter((id) => !publishedTaskIds.has(id))).toEqual([]);
  }, 30_000);
});
