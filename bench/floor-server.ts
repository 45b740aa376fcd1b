/**
 * The framework floor: the least a server on the product's stack can spend per request. An Apollo
 * Server answering `me` from a verified HS256 token, with nothing else in it (no limits, plugins,
 * logging, metrics or database), served on one of the HTTP layers the product could use.
 *
 *   node -r ts-node/register/transpile-only bench/floor-server.ts <express|fastify|node> <port> <secret>
 *
 * Prints "listening" once it accepts requests.
 */
import { createSecretKey } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import fastifyApollo from "@as-integrations/fastify";
import express from "express";
import Fastify from "fastify";
import { buildSchema, GraphQLError } from "graphql";
import jwt from "jsonwebtoken";

export const FLOOR_LAYERS = ["express", "fastify", "node"] as const;
export type FloorLayer = (typeof FLOOR_LAYERS)[number];

interface FloorContext {
  readonly userId: string;
}

const schema = buildSchema("type Query { me: User! } type User { id: ID! }");

async function main(): Promise<void> {
  const [layer, portText, secret] = process.argv.slice(2);
  if (!(FLOOR_LAYERS as readonly string[]).includes(layer ?? "")) throw new Error(`layer: ${FLOOR_LAYERS.join("|")}`);
  const port = Number(portText);
  const key = createSecretKey(Buffer.from(secret ?? "", "utf8"));
  const contextFor = (authorization: string | undefined): FloorContext => {
    try {
      const claims = jwt.verify((authorization ?? "").replace(/^Bearer /, ""), key, { algorithms: ["HS256"] });
      if (typeof claims === "object" && typeof claims.sub === "string") return { userId: claims.sub };
    } catch {
      // fall through to the refusal
    }
    throw new GraphQLError("invalid token", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
  };
  const rootValue = { me: (_args: unknown, context: FloorContext) => ({ id: context.userId }) };
  const apollo = new ApolloServer<FloorContext>({ schema, rootValue });

  if (layer === "fastify") {
    const app = Fastify();
    await apollo.start();
    await app.register(fastifyApollo(apollo), {
      context: async (request) => contextFor(request.headers.authorization),
    });
    await app.listen({ port, host: "127.0.0.1" });
  } else if (layer === "express") {
    await apollo.start();
    const app = express();
    app.use(
      "/graphql",
      express.json(),
      expressMiddleware(apollo, { context: async ({ req }) => contextFor(req.get("authorization")) }),
    );
    await new Promise<void>((resolve) => app.listen(port, "127.0.0.1", () => resolve()));
  } else {
    await apollo.start();
    const server = createServer((req, res) => {
      void readJson(req).then(async (body) => {
        const headers = new HeaderMap();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const answer = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? "GET", headers, search: "", body },
          context: async () => contextFor(req.headers.authorization),
        });
        res.statusCode = answer.status ?? 200;
        for (const [name, value] of answer.headers) res.setHeader(name, value);
        if (answer.body.kind === "complete") {
          res.end(answer.body.string);
          return;
        }
        for await (const chunk of answer.body.asyncIterator) res.write(chunk);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  }
  process.stdout.write("listening\n");
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve(undefined);
      }
    });
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
