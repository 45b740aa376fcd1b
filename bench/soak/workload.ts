/**
 * The soak's workload: many users, each autocannon connection repeating a cycle of
 * createTodo → completeTodo (of that todo) → triggerTodoEvent (on it), and a ledger of what
 * the API acknowledged, so the delivery audit can look every acknowledged event up in Kafka.
 */
import type { Request as CannonRequest } from "autocannon";
import { hsToken } from "../../test/support/tokens";

export const SOAK_USER_PREFIX = "soak-user-";
/** The action of the soak's triggerTodoEvent calls (events of todo mutations carry task_*). */
export const TRIGGER_ACTION = "soak.checked";

const CREATE_QUERY = "mutation SoakCreate($input: CreateTodoInput!) { createTodo(input: $input) { id } }";
const COMPLETE_QUERY = "mutation SoakComplete($id: Int!) { completeTodo(id: $id) { id completed } }";
const TRIGGER_QUERY =
  "mutation SoakTrigger($taskId: Int!, $input: TodoEventInput!) { triggerTodoEvent(taskId: $taskId, input: $input) { success eventId } }";

export type Operation = "create" | "complete" | "trigger";
export const OPERATIONS: readonly Operation[] = ["create", "complete", "trigger"];

export interface SoakUser {
  readonly id: string;
  readonly token: string;
  /** A todo of the user's own, created at setup: the fallback target when a cycle's create failed. */
  readonly taskId: number;
}

/** What the API acknowledged (2xx without GraphQL errors) and what failed, over every phase. */
export class Ledger {
  /** Ids of todos whose createTodo was acknowledged: each must have a task_created event. */
  readonly created = new Set<number>();
  /** Ids of freshly created todos whose completeTodo was acknowledged: each must have a task_completed event. */
  readonly completed = new Set<number>();
  /** Event ids triggerTodoEvent returned. */
  readonly triggered = new Set<string>();
  readonly acknowledged: Record<Operation, number> = { create: 0, complete: 0, trigger: 0 };
  /** Non-2xx answers and 2xx answers carrying GraphQL errors, per operation. */
  readonly failed: Record<Operation, number> = { create: 0, complete: 0, trigger: 0 };
  /** Socket errors and timeouts (autocannon's reqError), which have no operation. */
  transportErrors = 0;
  firstError: string | undefined;

  get responses(): number {
    return OPERATIONS.reduce((sum, op) => sum + this.acknowledged[op] + this.failed[op], 0);
  }

  get errors(): number {
    return OPERATIONS.reduce((sum, op) => sum + this.failed[op], this.transportErrors);
  }

  noteFailure(op: Operation, description: string): void {
    this.failed[op] += 1;
    this.firstError ??= `${op}: ${description.slice(0, 300)}`;
  }
}

/** Per-connection state of one cycle; autocannon resets it when the cycle starts again. */
interface CycleContext {
  user?: SoakUser;
  todoId?: number;
}

interface GraphqlAnswer {
  readonly data?: Record<string, Record<string, unknown> | null> | null;
  readonly errors?: unknown;
}

export function soakUsers(count: number): Omit<SoakUser, "taskId">[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `${SOAK_USER_PREFIX}${index + 1}`;
    return { id, token: hsToken({ sub: id }, { expiresIn: "12h" }) };
  });
}

/** Gives every user a todo of its own through the API; the creates count in the ledger. */
export async function createSoakUsers(origin: string, count: number, ledger: Ledger): Promise<SoakUser[]> {
  return Promise.all(
    soakUsers(count).map(async (user) => {
      const response = await fetch(`${origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: CREATE_QUERY, variables: { input: { title: `Todo of ${user.id}` } } }),
      });
      const answer = (await response.json()) as GraphqlAnswer;
      const id = answer.data?.createTodo?.id;
      if (typeof id !== "number") throw new Error(`createTodo for ${user.id} failed: ${JSON.stringify(answer)}`);
      ledger.acknowledged.create += 1;
      ledger.created.add(id);
      return { ...user, taskId: id };
    }),
  );
}

/**
 * The three requests of the cycle for autocannon's `requests`. Cycles take the users in turn, so
 * the load is spread over all of them whatever the connection count.
 */
export function mutationCycle(users: readonly SoakUser[], ledger: Ledger): CannonRequest[] {
  let nextUser = 0;
  const context = (raw: object): CycleContext => raw;
  const post = (user: SoakUser, query: string, variables: object): Partial<CannonRequest> => ({
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
    body: JSON.stringify({ query, variables }),
  });
  /** The answer's data.<field> when the request was acknowledged, else undefined (and the failure is counted). */
  const acknowledged = (
    op: Operation,
    field: string,
    status: number,
    body: string,
  ): Record<string, unknown> | undefined => {
    if (status < 200 || status >= 300) {
      ledger.noteFailure(op, `HTTP ${status}: ${body}`);
      return undefined;
    }
    let answer: GraphqlAnswer;
    try {
      answer = JSON.parse(body) as GraphqlAnswer;
    } catch {
      ledger.noteFailure(op, `not JSON: ${body}`);
      return undefined;
    }
    const payload = answer.data?.[field];
    if (answer.errors !== undefined || payload === undefined || payload === null) {
      ledger.noteFailure(op, body);
      return undefined;
    }
    ledger.acknowledged[op] += 1;
    return payload;
  };
  const userOf = (ctx: CycleContext): SoakUser => ctx.user ?? users[0];

  return [
    {
      setupRequest: (request, raw) => {
        const ctx = context(raw);
        ctx.user = users[nextUser++ % users.length];
        return { ...request, ...post(ctx.user, CREATE_QUERY, { input: { title: "Soak todo", priority: "LOW" } }) };
      },
      onResponse: (status, body, raw) => {
        const payload = acknowledged("create", "createTodo", status, body);
        if (typeof payload?.id === "number") {
          context(raw).todoId = payload.id;
          ledger.created.add(payload.id);
        }
      },
    },
    {
      setupRequest: (request, raw) => {
        const ctx = context(raw);
        const user = userOf(ctx);
        return { ...request, ...post(user, COMPLETE_QUERY, { id: ctx.todoId ?? user.taskId }) };
      },
      onResponse: (status, body, raw) => {
        const payload = acknowledged("complete", "completeTodo", status, body);
        // Completing the setup todo again (after a failed create) emits nothing: only fresh todos count.
        const todoId = context(raw).todoId;
        if (payload !== undefined && todoId !== undefined) ledger.completed.add(todoId);
      },
    },
    {
      setupRequest: (request, raw) => {
        const ctx = context(raw);
        const user = userOf(ctx);
        return {
          ...request,
          ...post(user, TRIGGER_QUERY, {
            taskId: ctx.todoId ?? user.taskId,
            input: { action: TRIGGER_ACTION, details: { source: "soak" } },
          }),
        };
      },
      onResponse: (status, body) => {
        const payload = acknowledged("trigger", "triggerTodoEvent", status, body);
        if (typeof payload?.eventId === "string") ledger.triggered.add(payload.eventId);
      },
    },
  ];
}
