/**
 * The SQLite statements of triggerTodoEvent without the API around them: CPU time per trigger of
 * the ownership check, the pending check, the sequence upsert and the outbox insert, with the
 * PUBLISHED mark after them, in transactions of `--group` triggers. The database is made by the
 * product's migrations and filled with published rows first, so the indexes have the size they
 * have after a while in service. `--indexes full` puts back the indexes of every row that the
 * partial indexes of pending rows replaced, for the comparison. Event ids are the product's own
 * (time-ordered, version 7); `--event-ids v4` makes them random, as they were before. `--sql` runs
 * statements of its own first, to try SQLite's settings or an index (`"pragma cache_size = -16000"`,
 * `"create index outbox_user_id_id on outbox (user_id, id)"`).
 *
 *   npx ts-node --transpile-only bench/micro/trigger-statements.ts [--group 16] [--indexes partial|full]
 *     [--event-ids v7|v4] [--sql "..."]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import SqliteDatabase from "better-sqlite3";
import { openDatabase } from "../../src/db/database";
import { newEventId } from "../../src/events/todo-event";

const { values } = parseArgs({
  options: {
    group: { type: "string", default: "16" },
    indexes: { type: "string", default: "partial" },
    users: { type: "string", default: "64" },
    "rows-per-user": { type: "string", default: "1000" },
    triggers: { type: "string", default: "20000" },
    sql: { type: "string", default: "" },
    "event-ids": { type: "string", default: "v7" },
  },
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "todo-trigger-statements-"));
  const path = join(dir, "todos.db");
  try {
    await (await openDatabase(`sqlite:${path}`)).close();
    const db = new SqliteDatabase(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    if (values.sql !== "") db.exec(values.sql);
    if (values.indexes === "full") {
      db.exec("drop index outbox_pending_id; drop index outbox_pending_user_id");
      db.exec("create index outbox_status_id on outbox (status, id)");
      db.exec("create index outbox_user_id_status on outbox (user_id, status)");
    }
    const statements = prepare(db);
    const users = Array.from({ length: Number(values.users) }, (_, index) => `user-${index}`);
    const taskOf = new Map(users.map((user) => [user, Number(statements.insertTodo.run(user).lastInsertRowid)]));
    const nextEventId = values["event-ids"] === "v4" ? randomUUID : newEventId;
    const append = (user: string): number => {
      statements.owned.get(user, taskOf.get(user));
      statements.pending.get(user, 1);
      const { last_sequence: sequence } = statements.nextSequence.get(user) as { last_sequence: number };
      const now = new Date().toISOString();
      const eventId = nextEventId();
      const payload = JSON.stringify({
        event_id: eventId,
        action: "task_nudged",
        task_id: 1,
        user_id: user,
      });
      const row = statements.insertEvent.get(eventId, user, taskOf.get(user), payload, now, now, sequence);
      return (row as { id: number }).id;
    };
    const markAll = db.transaction((ids: number[]) => {
      const now = new Date().toISOString();
      for (const id of ids) statements.markPublished.run(now, id);
    });
    markAll(
      Array.from({ length: users.length * Number(values["rows-per-user"]) }, (_, index) =>
        append(users[index % users.length]),
      ),
    );

    const group = Number(values.group);
    const appendGroup = db.transaction((first: number) =>
      Array.from({ length: group }, (_, offset) => append(users[(first + offset) % users.length])),
    );
    const batches = Math.ceil(Number(values.triggers) / group);
    const start = process.cpuUsage();
    for (let batch = 0; batch < batches; batch++) markAll(appendGroup(batch * group));
    const spent = process.cpuUsage(start);
    const perTrigger = (spent.user + spent.system) / (batches * group);
    process.stdout.write(
      `indexes ${values.indexes}, event ids ${values["event-ids"]}, groups of ${group}: ${perTrigger.toFixed(1)} µs CPU per trigger\n`,
    );
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function prepare(db: SqliteDatabase.Database) {
  return {
    insertTodo: db.prepare(
      "insert into todos (user_id, title, completed, priority, created_at, updated_at) values (?, 'bench', 0, 'LOW', '2026-12-01', '2026-12-01')",
    ),
    owned: db.prepare('select "id" from "todos" where "user_id" = ? and "id" = ?'),
    // The LIMIT as the product's SQLite compiler writes it (src/db/sqlite-limit-cast.ts).
    pending: db.prepare(
      `select "id" from "outbox" where "user_id" = ? and "status" = 'PENDING' limit cast(? as integer)`,
    ),
    nextSequence: db.prepare(
      'insert into "user_sequences" ("user_id", "last_sequence", "pruned_through") values (?, 1, 0) ' +
        'on conflict ("user_id") do update set "last_sequence" = user_sequences.last_sequence + 1 returning "last_sequence"',
    ),
    insertEvent: db.prepare(
      'insert into "outbox" ("event_id", "user_id", "action", "task_id", "payload", "status", "attempts", "created_at", ' +
        `"next_attempt_at", "sequence") values (?, ?, 'task_nudged', ?, ?, 'PENDING', 0, ?, ?, ?) returning "id"`,
    ),
    markPublished: db.prepare(
      `update "outbox" set "status" = 'PUBLISHED', "published_at" = ?, "attempts" = "attempts" + 1 where "id" = ?`,
    ),
  };
}

void main();
