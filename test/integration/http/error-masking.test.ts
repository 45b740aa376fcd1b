import { ListTodosDocument } from "../../generated/graphql";
import { openTestDatabase } from "../../support/databases";
import { asUser, postGraphQL, startTestServer } from "../../support/test-server";

describe("errors the client did not cause", () => {
  it("reach the client as INTERNAL_SERVER_ERROR without a stack, SQL text or file path (production)", async () => {
    const database = await openTestDatabase("sqlite");
    const server = await startTestServer({ database, env: { NODE_ENV: "production" } });
    try {
      await database.dispose(); // the database disappears under the running server

      const response = await postGraphQL(server.origin, ListTodosDocument, {}, asUser("alice"));
      const text = JSON.stringify(response.body);

      expect(response.body.errors).toEqual([
        {
          message: "Internal server error",
          locations: expect.any(Array),
          path: ["todos"],
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        },
      ]);
      expect(text).not.toMatch(/select|sqlite|destroyed|\/work\/|\.ts:\d+|at [A-Za-z]+ \(/i);
    } finally {
      await server.stop().catch(() => undefined);
    }
  });
});
