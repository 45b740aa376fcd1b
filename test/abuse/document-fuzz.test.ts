/**
 * Thousands of malformed, mutated and mistyped documents, derived from the sample operations and
 * the schema, are each answered within 100 ms with data or a client error code — never
 * INTERNAL_SERVER_ERROR — over HTTP and over graphql-ws, and the server keeps serving. The corpus
 * comes from a fixed seed (in the suite's name): a failure names the document, and rerunning the
 * file replays it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  print,
  typeFromAST,
  visit,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { openSocket, type GraphQLSocket } from "../support/graphql-ws-client";
import { postDocument, postRaw } from "../support/raw-graphql";
import { startTestServer, type TestServer } from "../support/test-server";
import { tokenFor } from "../support/tokens";

const SEED = 20_260_311;
const HTTP_DOCUMENTS = 3000;
const SOCKET_DOCUMENTS = 1000;
const ANSWER_WITHIN_MS = 100;
/** Below the server's 64 KiB frame limit, so every socket message is a document the server must judge. */
const MAX_SOCKET_MESSAGE = 48 * 1024;
const REPORTED_OFFENCES = 20;
/** Untimed documents (from another seed) sent first on each transport, so the timed ones meet compiled code. */
const WARM_UP_DOCUMENTS = 200;

const ROOT = resolve(__dirname, "../..");
const schema = buildSchema(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));
const USER = "document-fuzz";
const authorization = `Bearer ${tokenFor(USER)}`;

describe(`fuzzed documents (seed ${SEED})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "0" } });
  });
  afterAll(() => server.stop());

  describe(`${HTTP_DOCUMENTS} over HTTP`, () => {
    const exchanges: Exchange[] = [];
    beforeAll(async () => {
      const startedAt = performance.now();
      for (const fuzzed of fuzzCorpus(WARM_UP_DOCUMENTS, { transport: "http", seed: SEED - 1 }))
        await overHttp(server.origin, -1, fuzzed);
      const corpus = fuzzCorpus(HTTP_DOCUMENTS, { transport: "http", seed: SEED });
      for (const [index, fuzzed] of corpus.entries())
        exchanges.push(await retimedIfSlow(() => overHttp(server.origin, index, fuzzed)));
      report("http", exchanges, startedAt);
    }, 60_000);

    it("answers every one with data or a client error code, never INTERNAL_SERVER_ERROR", () => {
      expect(describeOffences(exchanges.filter((exchange) => unsoundAnswer(exchange) !== undefined))).toEqual([]);
    });

    it(`answers each within ${ANSWER_WITHIN_MS} ms`, () => {
      expect(describeOffences(exchanges.filter(isSlow))).toEqual([]);
    });
  });

  describe(`${SOCKET_DOCUMENTS} over graphql-ws`, () => {
    const exchanges: Exchange[] = [];
    beforeAll(async () => {
      const startedAt = performance.now();
      const warmUp = fuzzCorpus(WARM_UP_DOCUMENTS, { transport: "websocket", seed: SEED - 2 });
      const corpus = fuzzCorpus(SOCKET_DOCUMENTS, { transport: "websocket", seed: SEED + 1 });
      let socket: GraphQLSocket | undefined;
      try {
        for (const [index, fuzzed] of [...warmUp, ...corpus].entries()) {
          // A socket the server closed is an offence (recorded below); the rest of the corpus gets a new one.
          socket ??= await connectedSocket(server.origin);
          const current = socket;
          const exchange = await retimedIfSlow(() => overSocket(current, index - warmUp.length, fuzzed));
          if (exchange.index >= 0) exchanges.push(exchange);
          if (exchange.outcome.startsWith("closed")) {
            await socket.dispose();
            socket = undefined;
          }
        }
      } finally {
        await socket?.dispose();
      }
      report("websocket", exchanges, startedAt);
    }, 60_000);

    it("answers every one with data or a client error code, never INTERNAL_SERVER_ERROR", () => {
      expect(describeOffences(exchanges.filter((exchange) => unsoundAnswer(exchange) !== undefined))).toEqual([]);
    });

    it(`answers each within ${ANSWER_WITHIN_MS} ms`, () => {
      expect(describeOffences(exchanges.filter(isSlow))).toEqual([]);
    });
  });

  it("still answers /healthz and a normal user's `me` afterwards", async () => {
    const health = await fetch(`${server.origin}/healthz`);
    const me = await postDocument(server.origin, "{ me { id } }", undefined, { headers: { authorization } });

    expect(health.status).toBe(200);
    expect(me.body).toEqual({ data: { me: { id: USER } } });
  });
});

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Fuzzed {
  /** What the generator did, for the failure message. */
  readonly mutations: readonly string[];
  /** The JSON body (HTTP) or the subscribe payload (graphql-ws). */
  readonly body: unknown;
}

interface Exchange {
  readonly index: number;
  readonly fuzzed: Fuzzed;
  /** "HTTP <status>", "result", "error message", "closed <code> <reason>" or "no answer (…)". */
  readonly outcome: string;
  readonly text: string;
  readonly errors?: readonly GraphQLFormattedError[];
  readonly elapsedMs: number;
  /** The time of a second attempt, made when the first was slow. */
  readonly retimedMs?: number;
}

/**
 * A slow answer is timed once more, and offends only when it is slow again: a costly document is
 * slow every time, a scheduler hiccup on a shared machine is not.
 */
async function retimedIfSlow(send: () => Promise<Exchange>): Promise<Exchange> {
  const first = await send();
  if (first.elapsedMs <= ANSWER_WITHIN_MS || first.outcome.startsWith("closed")) return first;
  return { ...first, retimedMs: (await send()).elapsedMs };
}

const isSlow = (exchange: Exchange): boolean =>
  Math.min(exchange.elapsedMs, exchange.retimedMs ?? Infinity) > ANSWER_WITHIN_MS;

async function overHttp(origin: string, index: number, fuzzed: Fuzzed): Promise<Exchange> {
  const started = performance.now();
  try {
    const answer = await postRaw(origin, fuzzed.body, { headers: { authorization } });
    const errors = errorsOf(answer.body);
    const elapsedMs = performance.now() - started;
    return { index, fuzzed, outcome: `HTTP ${answer.status}`, text: answer.text, errors, elapsedMs };
  } catch (error) {
    return { index, fuzzed, outcome: `no answer (${String(error)})`, text: "", elapsedMs: performance.now() - started };
  }
}

async function overSocket(socket: GraphQLSocket, index: number, fuzzed: Fuzzed): Promise<Exchange> {
  const { query, variables } = fuzzed.body as { query: string; variables?: Record<string, unknown> };
  const started = performance.now();
  try {
    const { message, result } = await socket.answerTo(query, variables);
    const elapsedMs = performance.now() - started;
    const outcome = message === "error" ? "error message" : "result";
    return { index, fuzzed, outcome, text: JSON.stringify(result), errors: result.errors ?? [], elapsedMs };
  } catch (error) {
    const closed = (error as { closed?: { code: number; reason: string } }).closed;
    const outcome = closed === undefined ? `no answer (${String(error)})` : `closed ${closed.code} ${closed.reason}`;
    return { index, fuzzed, outcome, text: "", elapsedMs: performance.now() - started };
  }
}

/** The errors of a GraphQL response ([] when it has only data), or undefined when it is not one. */
function errorsOf(body: unknown): readonly GraphQLFormattedError[] | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  if ("errors" in body) return Array.isArray(body.errors) ? (body.errors as GraphQLFormattedError[]) : undefined;
  return "data" in body ? [] : undefined;
}

async function connectedSocket(origin: string): Promise<GraphQLSocket> {
  const socket = openSocket(origin, authorization);
  await socket.connected;
  return socket;
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
function unsoundAnswer(exchange: Exchange): string | undefined {
  if (exchange.errors === undefined) return `not a GraphQL answer: ${exchange.outcome}`;
  const status = /^HTTP (\d+)$/.exec(exchange.outcome)?.[1];
  if (status !== undefined && Number(status) >= 500) return `server error ${status}`;
  const codes = exchange.errors.map((error) => error.extensions?.code);
  if (codes.includes("INTERNAL_SERVER_ERROR")) return "INTERNAL_SERVER_ERROR";
  if (codes.some((code) => typeof code !== "string")) return "an error without a code";
  return undefined;
}

function describeOffences(offences: readonly Exchange[]): string[] {
  const described = offences.slice(0, REPORTED_OFFENCES).map((exchange) => {
    const retimed = exchange.retimedMs === undefined ? "" : `, then ${Math.round(exchange.retimedMs)} ms`;
    const why = unsoundAnswer(exchange) ?? `${Math.round(exchange.elapsedMs)} ms${retimed}`;
    const sent = truncate(JSON.stringify(exchange.fuzzed.body), 400);
    return `#${exchange.index} [${why}; ${exchange.outcome}] after ${exchange.fuzzed.mutations.join(", ")}: ${sent} => ${truncate(exchange.text, 300)}`;
  });
  if (offences.length > REPORTED_OFFENCES) described.push(`… and ${offences.length - REPORTED_OFFENCES} more`);
  return described;
}

function report(transport: string, exchanges: readonly Exchange[], startedAt: number): void {
  const latencies = exchanges.map((exchange) => exchange.elapsedMs).sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
  const codes = new Map<string, number>();
  for (const exchange of exchanges) {
    const first = exchange.errors?.[0]?.extensions?.code;
    const code = typeof first === "string" ? first : exchange.errors?.length === 0 ? "data" : "none";
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  process.stderr.write(
    `[document fuzz] seed ${SEED} ${transport}: ${exchanges.length} documents, ` +
      `max ${latencies.at(-1)?.toFixed(1)} ms, p99 ${p99?.toFixed(1)} ms (first attempts), ` +
      `${exchanges.filter((exchange) => exchange.retimedMs !== undefined).length} retimed, ` +
      `${((performance.now() - startedAt) / 1000).toFixed(1)} s in all; first codes ${JSON.stringify(Object.fromEntries(codes))}\n`,
  );
}

const truncate = (text: string, length: number): string =>
  text.length <= length ? text : `${text.slice(0, length)}… (${text.length} chars)`;

// ---------------------------------------------------------------------------------------------
// The corpus: the sample operations with valid variables, then one to three mutations each

interface CorpusOptions {
  readonly transport: "http" | "websocket";
  readonly seed: number;
}

interface Seed {
  readonly query: string;
  readonly operationName?: string;
  readonly variables: Record<string, unknown>;
}

/** The generator's dice; each corpus restarts them from its own seed, so it does not depend on the other. */
let random = seededRandom(SEED);

function fuzzCorpus(count: number, options: CorpusOptions): Fuzzed[] {
  random = seededRandom(options.seed);
  // A socket subscription that is valid would stay open and never answer; over HTTP it must be refused.
  const seeds = sampleOperations().filter(
    (seed) => options.transport === "http" || !seed.query.trimStart().startsWith("subscription"),
  );
  const corpus: Fuzzed[] = [];
  while (corpus.length < count) {
    const fuzzed = mutated(pick(seeds), options);
    if (options.transport === "websocket" && Buffer.byteLength(JSON.stringify(fuzzed.body)) > MAX_SOCKET_MESSAGE)
      continue;
    corpus.push(fuzzed);
  }
  return corpus;
}

function mutated(seed: Seed, options: CorpusOptions): Fuzzed {
  let query = seed.query;
  let variables: unknown = structuredClone(seed.variables);
  const mutations: string[] = [];
  const rounds = chance(0.03) ? 0 : integer(1, 3);
  for (let round = 0; round < rounds; round += 1) {
    if (chance(0.65)) {
      const [name, mutate] = pick(Object.entries(DOCUMENT_MUTATIONS));
      query = mutate(query, options);
      mutations.push(name);
    } else {
      const [name, mutate] = pick(Object.entries(VARIABLE_MUTATIONS));
      variables = mutate(isRecord(variables) ? variables : {}, options);
      mutations.push(name);
    }
  }
  if (mutations.length === 0) mutations.push("none");
  const body: Record<string, unknown> = { query, variables };
  if (seed.operationName !== undefined && !chance(0.05)) body.operationName = seed.operationName;
  if (options.transport === "http" && chance(0.05)) {
    const [name, reshape] = pick(Object.entries(BODY_MUTATIONS));
    return { mutations: [...mutations, name], body: reshape(body) };
  }
  if (options.transport === "websocket" && (typeof variables !== "object" || Array.isArray(variables))) {
    // graphql-ws refuses such a message on the client already; the server never sees it.
    return { mutations, body: { query, variables: { wrapped: variables } } };
  }
  return { mutations, body };
}

/** Every operation in test/operations with the fragments it uses, plus a few the files lack. */
function sampleOperations(): Seed[] {
  const directory = join(ROOT, "test/operations");
  const definitions = readdirSync(directory)
    .filter((file) => file.endsWith(".graphql"))
    .sort()
    .flatMap((file) => parse(readFileSync(join(directory, file), "utf8")).definitions);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);

  const seeds: Seed[] = definitions.flatMap((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) return [];
    const used: DefinitionNode[] = [definition];
    visit(definition, {
      FragmentSpread: (spread) => {
        const fragment = fragments.get(spread.name.value);
        if (fragment !== undefined && !used.includes(fragment)) used.push(fragment);
      },
    });
    const variables: Record<string, unknown> = {};
    for (const variable of definition.variableDefinitions ?? []) {
      const type = typeFromAST(schema, variable.type) as GraphQLInputType | undefined;
      const value = type === undefined ? undefined : validValue(type, variable.variable.name.value);
      if (value !== undefined) variables[variable.variable.name.value] = value;
    }
    return [{ query: used.map((node) => print(node)).join("\n"), operationName: definition.name?.value, variables }];
  });
  return [
    ...seeds,
    { query: "{ me { id } __typename }", variables: {} },
    { query: "subscription OwnEvents { todoEvents { eventId action details } }", variables: {} },
  ];
}

/** Values the schema accepts, named after what the API expects in that field. */
const VALID_STRINGS: Record<string, string | undefined> = {
  action: "task_created",
  title: "a fuzzed todo",
  description: "written by the document fuzz",
  search: "fuzz",
  after: undefined,
  idempotencyKey: undefined,
};

function validValue(type: GraphQLInputType, name: string): unknown {
  if (isNonNullType(type)) return validValue(type.ofType, name);
  if (isListType(type)) return [validValue(type.ofType, name)];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).map((field) => [field.name, validValue(field.type, field.name)]);
    return Object.fromEntries(fields.filter(([, value]) => value !== undefined));
  }
  switch (type.name) {
    case "Int":
      return name === "first" ? 10 : 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return false;
    case "JSONObject":
      return { via: "fuzz", tags: ["a", "b"] };
    case "DateTimeISO":
      return "2030-01-01T00:00:00.000Z";
    default:
      return name in VALID_STRINGS ? VALID_STRINGS[name] : "fuzz";
  }
}

// Document mutations work on a rough token split; exactness does not matter, variety does.
const TOKEN =
  /"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|\.\.\.|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[_A-Za-z][_0-9A-Za-z]*|\$[_A-Za-z]\w*|\S/g;
const tokensOf = (query: string): string[] => query.match(TOKEN) ?? [];

const SCHEMA_NAMES = schemaNames(schema);
const PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", "!", "$", "@", "=", "|", "&", "...", ",", '"', "#", "\\", "."];
const ODD_TEXT = ["\u0000", "\uFEFF", "\u200B", "\u202E", "\uD800", "🙂", "漢字", "ß", "\r", "\t", "\u2028", "é"];
const KEYWORDS = ["query", "mutation", "fragment", "on", "true", "false", "null", "schema", "type", "extend", "input"];
const LITERALS = ["0", "-1", "2147483648", "99999999999999999999", "1e999", "1.5", '""', '"x"', '""""""', "[]", "{}"];
const DIRECTIVES = [
  "@include(if: true)",
  "@skip(if: false)",
  "@skip(if: $nope)",
  "@include",
  "@deprecated",
  "@oneOf",
  "@x",
];

function tokenPool(options: CorpusOptions): string[] {
  const keywords = options.transport === "http" ? [...KEYWORDS, "subscription"] : KEYWORDS;
  return [
    ...keywords,
    ...SCHEMA_NAMES,
    ...PUNCTUATION,
    ...LITERALS,
    "__schema",
    "__type",
    "__typename",
    "$id",
    "$nope",
  ];
}

type DocumentMutation = (query: string, options: CorpusOptions) => string;

const DOCUMENT_MUTATIONS: Record<string, DocumentMutation> = {
  "deleted a token": (query) => edit(query, (tokens, at) => tokens.splice(at, 1)),
  "duplicated a token": (query) => edit(query, (tokens, at) => tokens.splice(at, 0, tokens[at])),
  "swapped two tokens": (query) =>
    edit(query, (tokens, at) => {
      const other = integer(0, tokens.length - 1);
      [tokens[at], tokens[other]] = [tokens[other], tokens[at]];
    }),
  "replaced a token": (query, options) => edit(query, (tokens, at) => (tokens[at] = pick(tokenPool(options)))),
  "inserted punctuation": (query) =>
    edit(query, (tokens, at) => tokens.splice(at, 0, pick(PUNCTUATION).repeat(integer(1, 4)))),
  "inserted odd characters": (query) => edit(query, (tokens, at) => tokens.splice(at, 0, pick(ODD_TEXT))),
  truncated: (query) => query.slice(0, integer(0, query.length)),
  "nested braces": (query) => {
    const depth = pick([3, 12, 100, 1000, 5000, 20_000]);
    return edit(query, (tokens, at) => tokens.splice(at, 0, "{ me ".repeat(depth) + "} ".repeat(integer(0, depth))));
  },
  "wrapped in braces": (query) => {
    const depth = pick([2, 50, 3000]);
    return `${"{".repeat(depth)}${query}${"}".repeat(depth)}`;
  },
  "added aliases": (query) =>
    edit(query, (tokens) => {
      const fields = tokens.flatMap((token, at) => (/^[a-z]\w*$/.test(token) && tokens[at + 1] !== ":" ? [at] : []));
      for (let count = integer(1, 60); count > 0 && fields.length > 0; count -= 1) {
        const at = pick(fields);
        tokens[at] = `a${integer(0, 999)}: ${tokens[at]}`;
      }
    }),
  "added a fragment": (query) => {
    const name = `Fz${integer(0, 9)}`;
    const definition = pick([
      `fragment ${name} on Query { me { id } }`,
      `fragment ${name} on Todo { id title }`,
      `fragment ${name} on Nope { id }`,
      `fragment ${name} on Query { ...${name} }`,
      `fragment ${name} on Query { ...Other } fragment Other on Query { ...${name} }`,
    ]);
    return `${edit(query, (tokens, at) => tokens.splice(at, 0, `...${name}`))} ${definition}`;
  },
  "added a fragment chain": (query) => {
    // Doubling spreads at a depth that even an exponential walk survives; the exponential ones are in hostile-documents.
    const levels = integer(2, 12);
    const chain = Array.from(
      { length: levels },
      (_, level) => `fragment C${level} on Query { ...C${level + 1} ...C${level + 1} }`,
    );
    return `${query.replace("{", "{ ...C0 ")} ${chain.join(" ")} fragment C${levels} on Query { me { id } }`;
  },
  "added directives": (query) =>
    edit(query, (tokens, at) => {
      const count = pick([1, 3, 60, 400]);
      tokens.splice(at, 0, Array.from({ length: count }, () => pick(DIRECTIVES)).join(" "));
    }),
  "added a huge string": (query) =>
    edit(query, (tokens, at) => tokens.splice(at, 0, `"${"x".repeat(pick([201, 5000, 40_000]))}"`)),
  "added a huge block string": (query) => `${query} """${"🙂".repeat(pick([100, 10_000]))}"""`,
  "added a huge comment": (query) => `# ${"c".repeat(pick([1000, 30_000]))}\n${query}`,
  "changed the operation type": (query, options) => {
    const types = options.transport === "http" ? ["query", "mutation", "subscription"] : ["query", "mutation"];
    return query.replace(/^(query|mutation|subscription)\b/, pick(types));
  },
  "added another operation": (query) =>
    `${query}\n${pick(["{ me { id } }", "query Other { me { id } }", "query { __schema { types { name } } }", 'query { __type(name: "Todo") { name fields { name } } }', "mutation { deleteTodo(id: 1) { success } }"])}`,
  "used an undefined variable": (query) => query.replace(/\$\w+/, "$undefinedVariable"),
  "replaced the document": () =>
    pick([
      "",
      " ",
      "#",
      "{}",
      "{ }",
      "query",
      "{ me }",
      "{ me { id } } }",
      "{ __schema { queryType { name } } }",
      "{ __typename }",
      "\u0000",
      "{ me { id } } fragment",
    ]),
};

function edit(query: string, change: (tokens: string[], at: number) => void): string {
  const tokens = tokensOf(query);
  change(tokens, integer(0, Math.max(0, tokens.length - 1)));
  return tokens.join(" ");
}

type VariableMutation = (variables: Record<string, unknown>, options: CorpusOptions) => unknown;

const VARIABLE_MUTATIONS: Record<string, VariableMutation> = {
  "replaced a variable value": (variables, options) => replaceSomewhere(variables, () => hostileValue(options)),
  "dropped a variable": (variables) => {
    const names = Object.keys(variables);
    if (names.length > 0) delete variables[pick(names)];
    return variables;
  },
  "added an unknown variable": (variables, options) => ({
    ...variables,
    [pick(["nope", "id", "__proto__"])]: hostileValue(options),
  }),
  "nested details deeply": (variables) =>
    replaceSomewhere(variables, () => nested(pick([31, 32, 33, 100, 1000])), "details"),
  "made search long": (variables) =>
    replaceSomewhere(variables, () => "s".repeat(pick([200, 201, 2000, 30_000])), "search"),
  "replaced all variables": (_variables, options) =>
    options.transport === "http" ? pick<unknown>(["x", 1, [], null, true, '{"id": 1}']) : {},
  "polluted a prototype": (variables) => ({
    ...variables,
    ...(JSON.parse('{"__proto__": {"polluted": true}}') as object),
  }),
};

function hostileValue(options: CorpusOptions): unknown {
  const huge = options.transport === "http" ? 70_000 : 30_000;
  return pick<() => unknown>([
    () => pick([0, -1, 1.5, 2_147_483_648, -2_147_483_649, 1e308, Number.MAX_SAFE_INTEGER, -0]),
    () =>
      pick([
        "",
        "1",
        "true",
        "null",
        "LOW",
        "low",
        "URGENT",
        "2020-13-45T99:99:99Z",
        "yesterday",
        "' OR 1=1 --",
        "%_\\",
      ]),
    () => pick(ODD_TEXT).repeat(integer(1, 300)),
    () => "x".repeat(pick([201, 2001, 16 * 1024 + 1, huge])),
    () => pick([true, false, null]),
    () => pick([[], [1, 2, 3], [[[]]], {}, { a: 1 }, { title: null }]),
    () => nested(pick([10, 33, 500])),
    () => Object.fromEntries(Array.from({ length: pick([100, 3000]) }, (_, key) => [`k${key}`, key])),
  ])();
}

/** Replaces a value at a random path (or at the first key named `key`), creating one when there is none. */
function replaceSomewhere(
  variables: Record<string, unknown>,
  value: () => unknown,
  key?: string,
): Record<string, unknown> {
  const paths: (string | number)[][] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (typeof node !== "object" || node === null || path.length > 6) return;
    for (const [name, child] of Object.entries(node)) {
      if (key === undefined || name === key) paths.push([...path, name]);
      walk(child, [...path, name]);
    }
  };
  walk(variables, []);
  if (paths.length === 0) return { ...variables, [key ?? "extra"]: value() };
  const path = pick(paths);
  let parent = variables as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[path.at(-1)!] = value();
  return variables;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? { next: value } : { list: [value] };
  return value;
}

type BodyMutation = (body: Record<string, unknown>) => unknown;

const BODY_MUTATIONS: Record<string, BodyMutation> = {
  "query not a string": (body) => ({
    ...body,
    query: pick<unknown>([1, null, ["{ me { id } }"], { query: "{ me { id } }" }]),
  }),
  "no query": ({ query: _query, ...rest }) => rest,
  "operationName not a string": (body) => ({ ...body, operationName: pick<unknown>([1, [], {}, true]) }),
  "unknown operationName": (body) => ({ ...body, operationName: "NoSuchOperation" }),
  "junk extensions": (body) => ({
    ...body,
    extensions: pick<unknown>(["x", [], { persistedQuery: { version: 1, sha256Hash: "00" } }, { persistedQuery: 1 }]),
  }),
  batched: (body) => [body, body],
  "malformed JSON": (body) => JSON.stringify(body).slice(0, integer(1, 40)),
  "JSON that is not an object": () => pick(['"{ me { id } }"', "null", "1", "[]", "true"]),
  "oversized body": (body) => ({ ...body, padding: "p".repeat(70 * 1024) }),
};

function schemaNames(of: GraphQLSchema): string[] {
  const names = new Set<string>();
  for (const type of Object.values(of.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    names.add(type.name);
    if (isObjectType(type) || isInputObjectType(type))
      for (const field of Object.values(type.getFields())) {
        names.add(field.name);
        for (const argument of "args" in field ? field.args : []) names.add(argument.name);
      }
    if (isEnumType(type)) for (const value of type.getValues()) names.add(value.name);
  }
  return [...names].sort();
}

/** mulberry32: small, seeded, good enough to vary inputs reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function integer(min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function chance(probability: number): boolean {
  return random() < probability;
}
