/**
 * After the soak: reads `todo-events` back from its first offset up to the end it had once the
 * outbox was empty, and looks every acknowledged mutation up in it (a created todo needs its
 * task_created record, a completed one its task_completed record, a trigger its event id).
 * Counts instead of keeping records: a 10-minute soak leaves a few hundred thousand.
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { within } from "../../test/stack/processes";
import { OPERATIONS, SOAK_USER_PREFIX, type Ledger, type Operation } from "./workload";

export interface DeliveryAudit {
  /** Records of the soak's users read from the topic. */
  readonly records: number;
  /** Records whose CloudEvent id was seen before (at-least-once delivery allows them). */
  readonly duplicates: number;
  readonly acknowledged: Readonly<Record<Operation, number>>;
  /** Acknowledged mutations with no record in Kafka. */
  readonly missing: Readonly<Record<Operation, number>>;
  readonly lost: number;
  readonly readMs: number;
}

interface SoakCloudEvent {
  readonly id?: string;
  readonly data?: { readonly action?: string; readonly task_id?: number; readonly user_id?: string };
}

export async function auditDelivery(
  brokers: string,
  topic: string,
  ledger: Ledger,
  timeoutMs: number,
): Promise<DeliveryAudit> {
  const started = performance.now();
  const kafka = new Kafka({ clientId: "todo-soak-audit", brokers: brokers.split(","), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, number>();
  try {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(partition, Number(high));
  } finally {
    await admin.disconnect();
  }

  const createdTasks = new Set<number>();
  const completedTasks = new Set<number>();
  const eventIds = new Set<string>();
  let records = 0;
  let duplicates = 0;
  const nextOffset = new Map<number, number>();
  const finished = (): boolean => [...ends].every(([partition, end]) => (nextOffset.get(partition) ?? 0) >= end);

  const consumer = kafka.consumer({ groupId: `todo-soak-audit-${randomUUID()}` });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let reachedEnd: (value: true) => void = () => undefined;
    const allRead = new Promise<true>((resolve) => (reachedEnd = resolve));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        nextOffset.set(partition, Number(message.offset) + 1);
        const event = parseEvent(message.value);
        const data = event?.data;
        if (event?.id !== undefined && data?.user_id?.startsWith(SOAK_USER_PREFIX) === true) {
          records += 1;
          if (eventIds.has(event.id)) duplicates += 1;
          eventIds.add(event.id);
          if (data.action === "task_created" && data.task_id !== undefined) createdTasks.add(data.task_id);
          if (data.action === "task_completed" && data.task_id !== undefined) completedTasks.add(data.task_id);
        }
        if (finished()) reachedEnd(true);
      },
    });
    if (!finished() && (await within(allRead, timeoutMs)) === undefined) {
      throw new Error(`reading ${topic} back did not reach its end within ${timeoutMs} ms (${records} soak records)`);
    }
  } finally {
    await within(consumer.disconnect(), 10_000);
  }

  const missingOf = <T>(acknowledged: ReadonlySet<T>, seen: ReadonlySet<T>): number =>
    [...acknowledged].filter((key) => !seen.has(key)).length;
  const missing: Record<Operation, number> = {
    create: missingOf(ledger.created, createdTasks),
    complete: missingOf(ledger.completed, completedTasks),
    trigger: missingOf(ledger.triggered, eventIds),
  };
  return {
    records,
    duplicates,
    acknowledged: { create: ledger.created.size, complete: ledger.completed.size, trigger: ledger.triggered.size },
    missing,
    lost: OPERATIONS.reduce((sum, op) => sum + missing[op], 0),
    readMs: Math.round(performance.now() - started),
  };
}

function parseEvent(value: Buffer | null): SoakCloudEvent | undefined {
  if (value === null) return undefined;
  try {
    return JSON.parse(value.toString("utf8")) as SoakCloudEvent;
  } catch {
    return undefined;
  }
}
