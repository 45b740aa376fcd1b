/** Reading daprd's bulk publish answers: an entry counts as delivered only when the answer allows no doubt. */
import { bulkPublishEntries, failedBulkEntries } from "../../../../src/events/dapr/dapr-bulk-publish";
import { publishMetadataFor } from "../../../../src/events/todo-event";
import { todoEventPayload } from "../../../support/event-payloads";

const events = ["alice", "bob"].map((userId) =>
  todoEventPayload({ action: "task_created", taskId: 1, userId, details: { title: "t" } }),
);

describe("bulkPublishEntries", () => {
  it("numbers the entries and gives each the metadata of a single publish", () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const entries = bulkPublishEntries([{ event: events[0] }, { event: events[1], options: { traceparent } }]);

    expect(entries.map((entry) => entry.entryId)).toEqual(["0", "1"]);
    expect(entries[0]).toEqual({
      entryId: "0",
      event: events[0],
      contentType: "application/json",
      metadata: publishMetadataFor(events[0]),
    });
    expect(entries[1]?.metadata).toMatchObject({ user_id: "bob", "cloudevent.traceparent": traceparent });
  });
});

describe("failedBulkEntries", () => {
  it("maps daprd's failedEntries (spelled entryId) to their errors", () => {
    const body = JSON.stringify({
      failedEntries: [{ entryId: "1", error: "kafka: message too large" }],
      errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE",
    });

    expect(failedBulkEntries(body)).toEqual(new Map([["1", "kafka: message too large"]]));
  });

  it.each([
    ["a body that is not JSON", "upstream connect error"],
    ["a standard error without entries", JSON.stringify({ errorCode: "ERR_PUBSUB_NOT_FOUND", message: "no pubsub" })],
    ["an empty failedEntries list", JSON.stringify({ failedEntries: [], errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE" })],
    ["the SDK's spelling entryID", JSON.stringify({ failedEntries: [{ entryID: "0", error: "x" }] })],
    ["JSON null", "null"],
  ])("treats %s as a failure of the whole request", (_case, body) => {
    expect(failedBulkEntries(body)).toBeUndefined();
  });
});
