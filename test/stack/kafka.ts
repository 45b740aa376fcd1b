/**
 * Reads Kafka topics back with kafkajs, as a consumer of `todo-events` would.
 * Every reader uses its own consumer group, so it sees the topic from the
 * first offset and never steals partitions from another reader (or daprd).
 */
import { randomUUID } from "node:crypto";
import { AssignerProtocol, Kafka, KafkaJSError, logLevel, type Consumer, type IHeaders, type LogEntry } from "kafkajs";
import { delay, within } from "./processes";

const SUBSCRIBE_TIMEOUT_MS = 30_000;

export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** Header values decoded as UTF-8 (a repeated header is joined with ","). */
  readonly headers: Readonly<Record<string, string>>;
  /** The value parsed as JSON (the raw string when it is not JSON). */
  readonly value: unknown;
}

export interface TopicReaderOptions {
  /** Default true: read the topic from its first offset. */
  readonly fromBeginning?: boolean;
  /**
   * Checks every record as it arrives and returns what is wrong with it (nothing when it is
   * fine). Once a record failed, records(), waitFor() and close() throw with its violations.
   */
  readonly validate?: (record: KafkaRecord) => readonly string[];
}

/** A record that broke the contract the reader checks. */
export class RecordContractError extends Error {
  constructor(topic: string, failures: readonly { record: KafkaRecord; violations: readonly string[] }[]) {
    const shown = failures
      .slice(0, 3)
      .map(
        ({ record, violations }) =>
          `  ${record.topic}[${record.partition}]@${record.offset}: ${violations.join("; ")}\n    ${JSON.stringify(record).slice(0, 600)}`,
      );
    super(`${failures.length} record(s) of ${topic} break the contract:\n${shown.join("\n")}`);
  }
}

/** Subscribes once and accumulates every record; ask it for records as often as needed. */
export class TopicReader {
  private readonly received: KafkaRecord[] = [];
  /** kafkajs' own warnings and errors, for timeout messages. */
  private readonly clientLog: string[] = [];
  private readonly invalid: { record: KafkaRecord; violations: readonly string[] }[] = [];
  private consumer: Consumer | undefined;
  private runError: unknown;

  private constructor(
    readonly brokers: string,
    readonly topic: string,
    private readonly validate: TopicReaderOptions["validate"],
  ) {}

  static async start(brokers: string, topic: string, options: TopicReaderOptions = {}): Promise<TopicReader> {
    const reader = new TopicReader(brokers, topic, options.validate);
    try {
      await reader.subscribe(options.fromBeginning ?? true);
    } catch (error) {
      await reader.close();
      throw error;
    }
    return reader;
  }

  private async subscribe(fromBeginning: boolean): Promise<void> {
    const kafka = new Kafka({
      clientId: "todo-e2e-reader",
      brokers: this.brokers.split(","),
      logLevel: logLevel.WARN,
      // The first group join logs a transient "coordinator not available"; keep the log for timeouts instead of printing it.
      logCreator: () => (entry: LogEntry) => {
        this.clientLog.push(`${logLevel[entry.level]} ${entry.namespace}: ${entry.log.message}`);
        if (this.clientLog.length > 50) this.clientLog.shift();
      },
    });
    await ensureTopicHasLeaders(kafka, this.topic);
    const consumer = kafka.consumer({ groupId: `todo-e2e-${randomUUID()}` });
    this.consumer = consumer;
    // Resolves with the partitions this reader was given when it joins its group.
    const joined = new Promise<number[]>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, (event) => resolve(event.payload.memberAssignment[this.topic] ?? []));
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning });
    // Never await consumer.disconnect() inside eachMessage: it waits for eachMessage to finish.
    consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          const record: KafkaRecord = {
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString("utf8") ?? null,
            headers: decodeHeaders(message.headers),
            value: parseValue(message.value),
          };
          this.received.push(record);
          const violations = this.validate?.(record) ?? [];
          if (violations.length > 0) this.invalid.push({ record, violations });
        },
      })
      .catch((error: unknown) => {
        this.runError = error;
      });
    const partitions = await within(joined, SUBSCRIBE_TIMEOUT_MS);
    if (partitions === undefined) {
      throw new Error(
        `Kafka reader of ${this.topic} did not join its group within ${SUBSCRIBE_TIMEOUT_MS} ms; kafkajs log:\n${this.clientLog.join("\n")}`,
      );
    }
    // A group joined while the topic had no partition leader gets nothing, and kafkajs would not notice for minutes.
    if (partitions.length === 0) throw new Error(`Kafka reader joined its group without a partition of ${this.topic}`);
  }

  /** Everything received so far, in arrival order (offset order within a partition). */
  records(): readonly KafkaRecord[] {
    this.throwOnInvalidRecords();
    return [...this.received];
  }

  private throwOnInvalidRecords(): void {
    if (this.invalid.length > 0) throw new RecordContractError(this.topic, this.invalid);
  }

  /**
   * Waits until `done(records)` holds or `timeoutMs` passes, then returns the
   * records either way: the test's assertions say what is missing.
   */
  async waitFor(
    done: (records: readonly KafkaRecord[]) => boolean,
    timeoutMs: number,
  ): Promise<readonly KafkaRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received) && Date.now() < deadline) {
      this.throwOnInvalidRecords();
      if (this.runError !== undefined) {
        const reason = this.runError instanceof Error ? this.runError.message : JSON.stringify(this.runError);
        throw new Error(`kafkajs consumer failed: ${reason}`);
      }
      await delay(100);
    }
    if (!done(this.received)) {
      process.stderr.write(
        `[e2e kafka] ${this.topic}: condition not met after ${timeoutMs} ms with ${this.received.length} records; ` +
          `kafkajs log:\n${this.clientLog.join("\n")}\n`,
      );
    }
    return this.records();
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer !== undefined) {
      // Bounded: a disconnect during a rebalance can take a session timeout.
      await within(consumer.disconnect(), 10_000);
    }
    // A record that broke the contract after the test's last look still fails it.
    this.throwOnInvalidRecords();
  }
}

export interface ReadTopicOptions extends TopicReaderOptions {
  /** Stop as soon as this many records were read. */
  readonly untilCount: number;
  readonly timeoutMs: number;
}

/** One-shot read: subscribes with a fresh group, collects until `untilCount` or the timeout. */
export async function readTopic(brokers: string, topic: string, options: ReadTopicOptions): Promise<KafkaRecord[]> {
  const reader = await TopicReader.start(brokers, topic, options);
  try {
    return [...(await reader.waitFor((records) => records.length >= options.untilCount, options.timeoutMs))];
  } finally {
    await reader.close();
  }
}

/** A record to write to a topic as any producer would: key, headers and value as given. */
export interface OutgoingRecord {
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Written as JSON. */
  readonly value: unknown;
}

/**
 * Writes records straight to the topic, bypassing daprd: a redelivered copy of a record, or
 * events in an order the API would never publish them. Resolves once the broker acknowledged all.
 */
export async function produceRecords(
  brokers: string,
  topic: string,
  records: readonly OutgoingRecord[],
): Promise<void> {
  const kafka = new Kafka({ clientId: "todo-e2e-producer", brokers: brokers.split(","), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    // One record per request, so they land in this order.
    for (const record of records) {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: record.key, headers: { ...record.headers }, value: JSON.stringify(record.value) }],
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Waits until a consumer group whose id starts with `groupIdPrefix` is Stable
 * with a partition of `topic` assigned: from then on a record published to the
 * topic reaches that consumer (daprd's subscription starts at the newest
 * offset, so anything published before its group settles is never delivered).
 * Returns the group id.
 */
export async function waitForConsumerGroup(
  brokers: string,
  options: {
    readonly groupIdPrefix: string;
    readonly topic: string;
    readonly timeoutMs: number;
    /** Groups of an earlier consumer (e.g. of a daprd that was stopped) that do not count. */
    readonly excluding?: ReadonlySet<string>;
  },
): Promise<string> {
  const kafka = new Kafka({ clientId: "todo-e2e-admin", brokers: brokers.split(","), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + options.timeoutMs;
    let seen = "no group yet";
    for (;;) {
      try {
        const { groups } = await admin.listGroups();
        const candidates = groups
          .map((group) => group.groupId)
          .filter((id) => id.startsWith(options.groupIdPrefix) && !(options.excluding?.has(id) ?? false));
        if (candidates.length > 0) {
          const described = await admin.describeGroups(candidates);
          seen = described.groups.map((group) => `${group.groupId}: ${group.state}`).join(", ");
          const live = described.groups.find(
            (group) =>
              group.state === "Stable" &&
              group.members.some(
                (member) =>
                  (AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[options.topic] ?? [])
                    .length > 0,
              ),
          );
          if (live !== undefined) return live.groupId;
        }
      } catch (error) {
        // A fresh broker answers "the coordinator is loading" for a moment: that is worth waiting for.
        if (!(error instanceof KafkaJSError && error.retriable)) throw error;
        seen = error.message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no consumer group ${options.groupIdPrefix}* is consuming ${options.topic} after ${options.timeoutMs} ms (${seen})`,
        );
      }
      await delay(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the topic when it is missing and waits until every partition has a
 * leader. A topic created a moment ago (auto-created by daprd's subscription
 * or by a metadata request) answers UNKNOWN_TOPIC_OR_PARTITION until then, and
 * a consumer that joins its group in that window is assigned no partition.
 */
async function ensureTopicHasLeaders(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + SUBSCRIBE_TIMEOUT_MS;
    for (;;) {
      try {
        await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = metadata.topics[0]?.partitions ?? [];
        if (partitions.length > 0 && partitions.every((partition) => partition.leader >= 0)) return;
      } catch (error) {
        if (!(error instanceof KafkaJSError && error.retriable) || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader after ${SUBSCRIBE_TIMEOUT_MS} ms`);
      await delay(250);
    }
  } finally {
    await admin.disconnect();
  }
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    decoded[name] = values.map((part) => part.toString()).join(",");
  }
  return decoded;
}

function parseValue(value: Buffer | null): unknown {
  if (value === null) return null;
  const text = value.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
