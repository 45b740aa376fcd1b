/**
 * A steady stream of createTodo/completeTodo from several users, each user's
 * mutations one after another (so their order is defined), recording which
 * were acknowledged. Bounded: it stops when told, or after `maxMutations`.
 */
import { CompleteTodoDocument, CreateTodoDocument } from "../../generated/graphql";
import { asUser, postGraphQL } from "../../support/test-server";

export interface Acknowledged {
  readonly userId: string;
  readonly action: "task_created" | "task_completed";
  readonly taskId: number;
}

export interface LoadResult {
  readonly acknowledged: Acknowledged[];
  /** Requests that failed (connection refused while the API was down, or an error answer). */
  readonly unacknowledged: number;
  /** Failures by cause: "refused" (never accepted), "reset" (accepted, then cut off: in-flight loss), or "answer". */
  readonly failures: Readonly<Record<string, number>>;
}

export class MutationLoad {
  private readonly acknowledged: Acknowledged[] = [];
  private unacknowledged = 0;
  private readonly failures: Record<string, number> = {};
  private stopping = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly origin: string,
    readonly users: readonly string[],
    private readonly maxMutationsPerUser = 2000,
    /** A pause after each of a user's mutations, so a long fault does not use up `maxMutationsPerUser`. */
    private readonly pauseMs = 0,
  ) {
    this.loops = users.map((userId) => this.run(userId));
  }

  get acknowledgedCount(): number {
    return this.acknowledged.length;
  }

  async stop(): Promise<LoadResult> {
    this.stopping = true;
    await Promise.all(this.loops);
    return {
      acknowledged: [...this.acknowledged],
      unacknowledged: this.unacknowledged,
      failures: { ...this.failures },
    };
  }

  private async run(userId: string): Promise<void> {
    for (let count = 0; !this.stopping && count < this.maxMutationsPerUser; count += 2) {
      const taskId = await this.attempt(async () => {
        const response = await postGraphQL(
          this.origin,
          CreateTodoDocument,
          { input: { title: `load ${count}` } },
          asUser(userId),
        );
        return response.body.data?.createTodo.id;
      });
      if (taskId === undefined) continue;
      this.acknowledged.push({ userId, action: "task_created", taskId });
      const completed = await this.attempt(async () => {
        const response = await postGraphQL(this.origin, CompleteTodoDocument, { id: taskId }, asUser(userId));
        return response.body.data?.completeTodo.id;
      });
      if (completed !== undefined) this.acknowledged.push({ userId, action: "task_completed", taskId });
      if (this.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    }
  }

  /** One request; a failure is counted and paced so a dead API is not hammered. */
  private async attempt<T>(send: () => Promise<T | undefined>): Promise<T | undefined> {
    let cause = "answer";
    try {
      const result = await send();
      if (result !== undefined) return result;
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      cause = code === "ECONNREFUSED" ? "refused" : "reset";
    }
    this.unacknowledged += 1;
    this.failures[cause] = (this.failures[cause] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return undefined;
  }
}
