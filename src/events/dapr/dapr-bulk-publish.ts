/**
 * The wire format of daprd's bulk publish API (`POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}`).
 * We speak it ourselves because the SDK's `publishBulk` (3.x) looks for `entryID` in the answer
 * while daprd writes `entryId`: it then reports every partial failure as a success, and the
 * outbox relay would mark undelivered events as published.
 */
import type { PublishItem } from "../event-publisher";
import { parseJsonOrUndefined } from "../../shared/json";
import { publishMetadataFor } from "../todo-event";

export interface BulkPublishEntry {
  readonly entryId: string;
  readonly event: object;
  readonly contentType: "application/json";
  readonly metadata: Record<string, string>;
}

/** One entry per item; the entry id is the item's index, so it is unique within the request. */
export function bulkPublishEntries(items: readonly PublishItem[]): BulkPublishEntry[] {
  return items.map((item, index) => ({
    entryId: String(index),
    event: { ...item.event },
    contentType: "application/json",
    // Entry metadata is what a single publish sends: daprd applies `cloudevent.*` per entry,
    // and the Kafka component takes the record key and headers from it.
    metadata: publishMetadataFor(item.event, item.options?.traceparent),
  }));
}

/**
 * The entries daprd reports as failed, by entry id, read from the body of an error answer
 * (`{ failedEntries: [{ entryId, error }], errorCode }`). Undefined when the body names no
 * entry: then the whole request failed (bad request, unknown component, sidecar trouble),
 * and no entry may be taken as delivered.
 */
export function failedBulkEntries(errorBody: string): Map<string, string> | undefined {
  const parsed = parseJsonOrUndefined(errorBody);
  const failedEntries = (parsed as { failedEntries?: unknown } | null)?.failedEntries;
  if (!Array.isArray(failedEntries) || failedEntries.length === 0) return undefined;
  const failed = new Map<string, string>();
  for (const entry of failedEntries as unknown[]) {
    const { entryId, error } = (entry ?? {}) as { entryId?: unknown; error?: unknown };
    // An entry we cannot identify makes every entry suspect.
    if (typeof entryId !== "string") return undefined;
    failed.set(entryId, typeof error === "string" ? error : "failed");
  }
  return failed;
}
