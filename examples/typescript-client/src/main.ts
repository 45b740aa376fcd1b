/**
 * `npm run example:client [-- --trigger N]`: follows the caller's todo events and prints each as it
 * arrives, keeping the last sequence in STATE_FILE, so a reconnect, and a restart of this program,
 * resume with `afterSequence` and miss nothing. With `--trigger N` it also creates a todo and
 * triggers N events on it, half a second apart.
 *
 * Env: TODO_API_URL (http://localhost:4000), TOKEN (a JWT; `npm run -s token -- --sub you`),
 *      STATE_FILE (.todo-client/last-sequence.json), KEEPALIVE_MS (10000).
 */
import { join } from "node:path";
import { CreateTodoDocument, LatestTodoEventDocument, TriggerTodoEventDocument } from "./generated/graphql";
import { requestGraphQL } from "./graphql-http";
import { SequenceFile } from "./sequence-file";
import { streamTodoEvents, type TodoEvent } from "./todo-event-stream";

const apiUrl = (process.env.TODO_API_URL ?? "http://localhost:4000").replace(/\/$/, "");
const httpUrl = `${apiUrl}/graphql`;
const wsUrl = httpUrl.replace(/^http/, "ws");
const token = process.env.TOKEN ?? "";
const stateFile = new SequenceFile(process.env.STATE_FILE ?? join(process.cwd(), ".todo-client", "last-sequence.json"));
const keepAliveMs = Number(process.env.KEEPALIVE_MS ?? 10_000);

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => say(`· ${line}`);

function show(event: TodoEvent): void {
  say(`#${event.sequence} ${event.action} task ${event.taskId} ${event.status} ${JSON.stringify(event.details)}`);
}

/** Where to start: the saved sequence, or else the newest event in the history (from now, without a gap). */
async function startingSequence(): Promise<number> {
  const saved = stateFile.load();
  if (saved !== undefined) {
    note(`resuming after sequence ${saved} (saved in ${stateFile.path})`);
    return saved;
  }
  const latest = await requestGraphQL(httpUrl, token, LatestTodoEventDocument, {});
  const newest = latest.todoEvents.edges[0]?.node.sequence ?? 0;
  note(`starting after sequence ${newest}, the newest in your history`);
  return newest;
}

async function trigger(count: number): Promise<void> {
  const { createTodo } = await requestGraphQL(httpUrl, token, CreateTodoDocument, {
    input: { title: "from the example client" },
  });
  for (let index = 1; index <= count; index++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await requestGraphQL(httpUrl, token, TriggerTodoEventDocument, {
      taskId: createTodo.id,
      input: { action: "example.ping", details: { index } },
    });
  }
}

async function main(): Promise<void> {
  if (token === "") throw new Error("set TOKEN to a JWT (npm run -s token -- --sub you)");
  const triggerAt = process.argv.indexOf("--trigger");
  const triggers = triggerAt === -1 ? 0 : Number(process.argv[triggerAt + 1]);
  if (!Number.isSafeInteger(triggers) || triggers < 0) throw new Error("--trigger takes a count");

  const stream = streamTodoEvents({
    url: wsUrl,
    token,
    afterSequence: await startingSequence(),
    keepAliveMs,
    onStatus: note,
    onEvent: (event) => {
      show(event);
      if (event.sequence > 0) stateFile.save(event.sequence);
    },
  });
  const stop = (): void => void stream.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (triggers > 0) await trigger(triggers);
  await stream.done;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
