/**
 * Compares what the API acknowledged, what its outbox recorded and what Kafka
 * holds, per event id: lost, duplicated and reordered events, and todos
 * without their event.
 */
import { ListTodosDocument, TodoEventHistoryDocument } from "../../generated/graphql";
import { asUser, postGraphQL } from "../../support/test-server";
import { TopicReader, type KafkaRecord } from "../../stack/kafka";
import type { Acknowledged } from "./mutation-load";

interface HistoryEvent {
  readonly eventId: string;
  readonly action: string;
  readonly taskId: number;
  readonly status: string;
}

export interface Audit {
  readonly acknowledged: number;
  /** Outbox events of the acknowledged mutations (and of any that committed without an answer). */
  readonly recorded: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly orderViolations: number;
  readonly acknowledgedWithoutEvent: number;
  readonly todosWithoutEvent: number;
}

async function pages<T>(
  fetchPage: (after: string | null) => Promise<{ items: T[]; next: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  for (let after: string | null = null; ;) {
    const page = await fetchPage(after);
    all.push(...page.items);
    if (page.next === null) return all;
    after = page.next;
  }
}

/** A user's outbox history, oldest first. */
export async function historyOf(origin: string, userId: string): Promise<HistoryEvent[]> {
  const newestFirst = await pages(async (after) => {
    const response = await postGraphQL(origin, TodoEventHistoryDocument, { first: 100, after }, asUser(userId));
    const connection = response.body.data?.todoEvents;
    if (connection === undefined) throw new Error(`todoEvents failed: ${JSON.stringify(response.body.errors)}`);
    return {
      items: connection.edges.map((edge) => edge.node),
      next: connection.pageInfo.hasNextPage ? (connection.pageInfo.endCursor ?? null) : null,
    };
  });
  return newestFirst.reverse();
}

async function todoIdsOf(origin: string, userId: string): Promise<number[]> {
  return pages(async (after) => {
    const response = await postGraphQL(origin, ListTodosDocument, { first: 100, after }, asUser(userId));
    const connection = response.body.data?.todos;
    if (connection === undefined) throw new Error(`todos failed: ${JSON.stringify(response.body.errors)}`);
    return {
      items: connection.edges.map((edge) => edge.node.id),
      next: connection.pageInfo.hasNextPage ? (connection.pageInfo.endCursor ?? null) : null,
    };
  });
}

export async function audit(
  origin: string,
  users: readonly string[],
  acknowledged: readonly Acknowledged[],
  records: readonly KafkaRecord[],
): Promise<Audit> {
  // Only these users' records: other tests share the topic.
  const mine = new Set(users);
  const kafkaIds = records
    .filter((record) => mine.has(record.headers.user_id ?? ""))
    .map((record) => (record.value as { id: string }).id);
  const kafkaCounts = new Map<string, number>();
  for (const id of kafkaIds) kafkaCounts.set(id, (kafkaCounts.get(id) ?? 0) + 1);

  let recorded = 0;
  let lost = 0;
  let orderViolations = 0;
  let acknowledgedWithoutEvent = 0;
  let todosWithoutEvent = 0;
  for (const userId of users) {
    const history = await historyOf(origin, userId);
    recorded += history.length;
    lost += history.filter((event) => !kafkaCounts.has(event.eventId)).length;

    // Kafka's order of this user's events (first delivery) must be the outbox order.
    const historyIds = history.map((event) => event.eventId);
    const wanted = new Set(historyIds);
    const firstSeen: string[] = [];
    const seen = new Set<string>();
    for (const id of kafkaIds) {
      if (wanted.has(id) && !seen.has(id)) {
        seen.add(id);
        firstSeen.push(id);
      }
    }
    const expectedOrder = historyIds.filter((id) => seen.has(id));
    orderViolations += firstSeen.filter((id, index) => id !== expectedOrder[index]).length;

    const events = new Set(history.map((event) => `${event.action}:${event.taskId}`));
    acknowledgedWithoutEvent += acknowledged.filter(
      (mutation) => mutation.userId === userId && !events.has(`${mutation.action}:${mutation.taskId}`),
    ).length;
    const created = new Set(history.filter((event) => event.action === "task_created").map((event) => event.taskId));
    todosWithoutEvent += (await todoIdsOf(origin, userId)).filter((id) => !created.has(id)).length;
  }
  const duplicates = [...kafkaCounts.values()].reduce((sum, count) => sum + count - 1, 0);
  return {
    acknowledged: acknowledged.length,
    recorded,
    delivered: kafkaCounts.size,
    lost,
    duplicates,
    orderViolations,
    acknowledgedWithoutEvent,
    todosWithoutEvent,
  };
}

/**
 * Reads todo-events until every outbox event of `users` is there (or 60 s
 * pass, leaving the audit to report what is missing as lost).
 */
export async function kafkaRecordsFor(
  origin: string,
  brokers: string,
  users: readonly string[],
): Promise<readonly KafkaRecord[]> {
  const expected = new Set(
    (await Promise.all(users.map((user) => historyOf(origin, user)))).flat().map((event) => event.eventId),
  );
  const reader = await TopicReader.start(brokers, "todo-events");
  try {
    return await reader
      .waitFor((all) => {
        const seen = new Set(all.map((record) => (record.value as { id: string }).id));
        return [...expected].every((id) => seen.has(id));
      }, 60_000)
      .catch(() => reader.records());
  } finally {
    await reader.close();
  }
}
