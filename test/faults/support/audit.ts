/**
 * Compares what the API acknowledged, what its event log recorded and what Kafka
 * holds, per event id and per user sequence: lost, duplicated and reordered
 * events, gaps in a user's sequences, and todos without their event.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import { ListTodosDocument, type TodoEventHistoryQueryVariables, type TodoEventStatus } from "../../generated/graphql";
import { asUser, postGraphQL } from "../../support/test-server";
import { TopicReader, type KafkaRecord } from "../../stack/kafka";
import type { Acknowledged } from "./mutation-load";

interface HistoryEvent {
  readonly eventId: string;
  readonly sequence: number;
  readonly action: string;
  readonly taskId: number;
  readonly status: TodoEventStatus;
}

const EventLogDocument: TypedDocumentNode<
  {
    todoEvents: {
      edges: { node: HistoryEvent }[];
      pageInfo: { hasNextPage: boolean; endCursor?: string | null };
    };
  },
  TodoEventHistoryQueryVariables
> = parse(`
  query EventLog($first: Int, $after: String) {
    todoEvents(first: $first, after: $after) {
      edges { node { eventId sequence action taskId status } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

/** The part of a todo-events record the audit reads: the CloudEvent id and the payload's sequence. */
interface TopicEvent {
  readonly id: string;
  readonly data: { readonly sequence: number };
}

export interface Audit {
  readonly acknowledged: number;
  /** Outbox events of the acknowledged mutations (and of any that committed without an answer). */
  readonly recorded: number;
  readonly delivered: number;
  /** Triggers whose publish failed: the client was told, and they are never relayed. */
  readonly failed: number;
  /** Logged events missing from Kafka, FAILED ones excepted. */
  readonly lost: number;
  readonly duplicates: number;
  readonly orderViolations: number;
  /**
   * Records whose sequence is not above every earlier one of their user (a repeat of an event id
   * excepted), or not the sequence the log gave their event.
   */
  readonly sequenceViolations: number;
  /** Sequences of a user's log missing from Kafka without a FAILED entry to explain them. */
  readonly sequenceGaps: number;
  /** Sequences missing from Kafka because their entry is FAILED. */
  readonly failedSequenceGaps: number;
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
    const response = await postGraphQL(origin, EventLogDocument, { first: 100, after }, asUser(userId));
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
  const own = records.filter((record) => mine.has(record.headers.user_id ?? ""));
  const kafkaIds = own.map((record) => (record.value as TopicEvent).id);
  const kafkaCounts = new Map<string, number>();
  for (const id of kafkaIds) kafkaCounts.set(id, (kafkaCounts.get(id) ?? 0) + 1);

  let recorded = 0;
  let failed = 0;
  let lost = 0;
  let orderViolations = 0;
  const sequences = { violations: 0, gaps: 0, failedGaps: 0 };
  let acknowledgedWithoutEvent = 0;
  let todosWithoutEvent = 0;
  for (const userId of users) {
    const history = await historyOf(origin, userId);
    recorded += history.length;
    failed += history.filter((event) => event.status === "FAILED").length;
    lost += history.filter((event) => event.status !== "FAILED" && !kafkaCounts.has(event.eventId)).length;

    const checked = checkSequences(
      history,
      own.filter((record) => record.headers.user_id === userId),
    );
    sequences.violations += checked.violations;
    sequences.gaps += checked.gaps;
    sequences.failedGaps += checked.failedGaps;

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
    failed,
    lost,
    duplicates,
    orderViolations,
    sequenceViolations: sequences.violations,
    sequenceGaps: sequences.gaps,
    failedSequenceGaps: sequences.failedGaps,
    acknowledgedWithoutEvent,
    todosWithoutEvent,
  };
}

/**
 * One user's records against their log. Kafka order must be sequence order (first delivery of
 * each event id; a redelivery is a duplicate, counted elsewhere), and every sequence up to the
 * log's last must be on the topic unless the log marks it FAILED.
 */
function checkSequences(
  history: readonly HistoryEvent[],
  records: readonly KafkaRecord[],
): { violations: number; gaps: number; failedGaps: number } {
  const logged = new Map(history.map((event) => [event.eventId, event.sequence]));
  const onTopic = new Set<number>();
  const seen = new Set<string>();
  let highest = 0;
  let violations = 0;
  for (const record of records) {
    const { id, data } = record.value as TopicEvent;
    if (seen.has(id)) continue;
    seen.add(id);
    if (data.sequence <= highest || data.sequence !== logged.get(id)) violations += 1;
    highest = Math.max(highest, data.sequence);
    onTopic.add(data.sequence);
  }
  const failed = new Set(history.filter((event) => event.status === "FAILED").map((event) => event.sequence));
  const last = Math.max(0, ...history.map((event) => event.sequence));
  let gaps = 0;
  let failedGaps = 0;
  for (let sequence = 1; sequence <= last; sequence++) {
    if (onTopic.has(sequence)) continue;
    if (failed.has(sequence)) failedGaps += 1;
    else gaps += 1;
  }
  return { violations, gaps, failedGaps };
}

/**
 * Reads todo-events until every published event of `users` is there (or 60 s
 * pass, leaving the audit to report what is missing as lost).
 */
export async function kafkaRecordsFor(
  origin: string,
  brokers: string,
  users: readonly string[],
): Promise<readonly KafkaRecord[]> {
  // A FAILED trigger may never reach the topic: waiting for it would only spend the timeout.
  const expected = new Set(
    (await Promise.all(users.map((user) => historyOf(origin, user))))
      .flat()
      .filter((event) => event.status !== "FAILED")
      .map((event) => event.eventId),
  );
  const reader = await TopicReader.start(brokers, "todo-events");
  try {
    return await reader
      .waitFor((all) => {
        const seen = new Set(all.map((record) => (record.value as TopicEvent).id));
        return [...expected].every((id) => seen.has(id));
      }, 60_000)
      .catch(() => reader.records());
  } finally {
    await reader.close();
  }
}
