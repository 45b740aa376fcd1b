import { openDatabase } from "../src/db/database";
import SqliteDatabase from "better-sqlite3";
import { rmSync } from "node:fs";

const path = "/tmp/sqlbench/db.sqlite";
const USERS = 64, PRE = 300;
async function main() {
  for (const f of [path, path + "-wal", path + "-shm"]) rmSync(f, { force: true });
  const d = await openDatabase(`sqlite:${path}`);
  await d.close();
  const db = new SqliteDatabase(path);
  db.pragma("journal_mode = WAL"); db.pragma("synchronous = NORMAL");
  const dropIdx = process.env.DROP ?? "";
  for (const i of dropIdx.split(",").filter(Boolean)) db.exec(`drop index ${i}`);
  const insTodo = db.prepare("insert into todos (user_id, title, completed, priority, created_at, updated_at) values (?, 't', 0, 'LOW', '2026', '2026')");
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const todoOf = new Map<string, number>();
  for (const u of users) todoOf.set(u, Number(insTodo.run(u).lastInsertRowid));
  const own = db.prepare('select "id" from "todos" where "user_id" = ? and "id" = ?');
  const pend = db.prepare('select "id" from "outbox" where "user_id" in (?) and "status" = ? limit ?');
  const seq = db.prepare('insert into "user_sequences" ("user_id", "last_sequence", "pruned_through") values (?, ?, ?) on conflict ("user_id") do update set "last_sequence" = user_sequences.last_sequence + 1 returning "last_sequence"');
  const ins = db.prepare('insert into "outbox" ("event_id", "user_id", "action", "task_id", "payload", "status", "attempts", "last_error", "created_at", "next_attempt_at", "published_at", "traceparent", "sequence") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning "id"');
  const mark = db.prepare('update "outbox" set "status" = \'PUBLISHED\', "published_at" = ?, "attempts" = "attempts" + 1, "last_error" = null where "id" = ? and "status" in (\'PENDING\', \'FAILED\')');
  const payload = JSON.stringify({ event_id: "x".repeat(36), action: "updated", task_id: 1, user_id: "user-1", details: { a: 1 }, occurred_at: new Date().toISOString(), schema_version: 1 });
  let n = 0;
  const one = (u: string) => {
    own.get(u, todoOf.get(u));
    pend.get(u, "PENDING", 1);
    const s = (seq.get(u, 1, 0) as { last_sequence: number }).last_sequence;
    const now = new Date().toISOString();
    return Number((ins.get(`e-${n++}`, u, "updated", todoOf.get(u), payload, "PENDING", 0, null, now, now, null, "00-abc", s) as { id: number }).id);
  };
  for (let i = 0; i < USERS * PRE; i++) { const id = one(users[i % USERS]); mark.run(new Date().toISOString(), id); }
  console.log("plan pending:", db.prepare('explain query plan select "id" from "outbox" where "user_id" in (?) and "status" = ? limit ?').all("u", "PENDING", 1).map((r: any) => r.detail).join(" | "));
  console.log("plan own:", db.prepare('explain query plan select "id" from "todos" where "user_id" = ? and "id" = ?').all("u", 1).map((r: any) => r.detail).join(" | "));
  const time = (label: string, N: number, fn: (i: number) => void) => {
    const c = process.cpuUsage(); const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(i);
    const u = process.cpuUsage(c); const w = Number(process.hrtime.bigint() - t) / 1000;
    console.log(`${label}: ${((u.user + u.system) / N).toFixed(1)} µs CPU, ${(w / N).toFixed(1)} µs wall per trigger`);
  };
  const N = 20000;
  for (const group of [1, 4, 16, 64]) {
    time(`group ${group}: append txn + mark txn`, N / group, (i) => {
      const ids: number[] = [];
      db.transaction(() => { for (let k = 0; k < group; k++) ids.push(one(users[(i * group + k) % USERS])); })();
      db.transaction(() => { const now = new Date().toISOString(); for (const id of ids) mark.run(now, id); })();
    });
  }
  const single = (label: string, stmt: () => void) => time(label, N, () => stmt());
  single("own.get", () => own.get("user-3", todoOf.get("user-3")));
  single("pend.get", () => pend.get("user-3", "PENDING", 1));
  console.log("pages", db.pragma("page_count", { simple: true }), "wal autockpt", db.pragma("wal_autocheckpoint", { simple: true }));
}
void main();
