import { startTestServer, type TestServer } from "../../support/test-server";

async function landingPage(server: TestServer): Promise<string> {
  const response = await fetch(`${server.origin}/graphql`, { headers: { accept: "text/html" } });
  expect(response.status).toBe(200);
  return response.text();
}

const introspection = (server: TestServer) =>
  fetch(`${server.origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ __schema { queryType { name } } }" }),
  }).then((response) => response.json() as Promise<{ data?: unknown; errors?: { message: string }[] }>);

describe("Apollo Sandbox landing page", () => {
  it("is served in development with the example operation, and a dev token when the dev secret is in use", async () => {
    const server = await startTestServer({ env: { NODE_ENV: "development", JWT_SECRET: undefined } });
    try {
      const html = await landingPage(server);

      expect(html).toMatch(/EmbeddedSandbox/);
      expect(html).toContain("triggerTodoEvent");
      expect(html).toMatch(/"Authorization":"Bearer eyJ/);
    } finally {
      await server.stop();
    }
  });

  it("never prefills a token when a real secret is configured", async () => {
    const server = await startTestServer({ env: { NODE_ENV: "development" } });
    try {
      const html = await landingPage(server);

      expect(html).toMatch(/EmbeddedSandbox/);
      expect(html).not.toMatch(/Bearer eyJ/);
    } finally {
      await server.stop();
    }
  });

  it("is replaced by the production landing page in production, with introspection off", async () => {
    const server = await startTestServer({ env: { NODE_ENV: "production" } });
    try {
      const html = await landingPage(server);
      const result = await introspection(server);

      expect(html).not.toMatch(/EmbeddedSandbox/);
      expect(html).not.toContain("triggerTodoEvent");
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0].message).toMatch(/introspection is not allowed/i);
    } finally {
      await server.stop();
    }
  });

  it("allows introspection in production when GRAPHQL_INTROSPECTION=true", async () => {
    const server = await startTestServer({ env: { NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" } });
    try {
      expect((await introspection(server)).data).toEqual({ __schema: { queryType: { name: "Query" } } });
    } finally {
      await server.stop();
    }
  });
});
