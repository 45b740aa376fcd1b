import { GraphQLError } from "graphql";
import { InvalidInputError, NotFoundError } from "../../../src/app-error";
import { EventPublishFailedError } from "../../../src/events/trigger/trigger.service";
import { formatGraphQLError, INTERNAL_ERROR_MESSAGE } from "../../../src/graphql/format-error";

/** What Apollo hands formatError for an error thrown inside a resolver. */
function fromResolver(original: Error) {
  const wrapped = new GraphQLError(original.message, { path: ["field"], originalError: original });
  return formatGraphQLError(
    { ...wrapped.toJSON(), extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x"] } },
    wrapped,
  );
}

describe("formatGraphQLError", () => {
  it("masks an unexpected error: no message, no stack, no internals", () => {
    const formatted = fromResolver(new Error("SQLITE_CONSTRAINT at /srv/app/src/db.ts:12"));

    expect(formatted).toEqual({
      message: INTERNAL_ERROR_MESSAGE,
      path: ["field"],
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("keeps a domain error's code, message and safe extensions", () => {
    expect(fromResolver(new InvalidInputError("input.action", "must match x"))).toMatchObject({
      message: "input.action must match x",
      extensions: { code: "BAD_USER_INPUT", field: "input.action" },
    });
    expect(fromResolver(new NotFoundError("Todo")).extensions).toEqual({ code: "NOT_FOUND" });
    expect(fromResolver(new EventPublishFailedError("e-1", 7))).toMatchObject({
      message: "Failed to publish event",
      extensions: { code: "EVENT_PUBLISH_FAILED", eventId: "e-1", sequence: 7 },
    });
  });
});
