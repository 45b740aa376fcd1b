/**
 * Reads the environment once, validates every value and returns a typed,
 * frozen configuration. Nothing else in the code reads `process.env`.
 */
import { readFileSync } from "node:fs";
import { DEVELOPMENT_JWT_SECRET } from "./development-secret";

export type JwtAlgorithm = "HS256" | "RS256" | "ES256" | "PS256";
const SUPPORTED_ALGORITHMS: readonly JwtAlgorithm[] = ["HS256", "RS256", "ES256", "PS256"];
/** What keys from an identity provider may sign with: asymmetric only, each key further pinned to its type. */
export type ProviderAlgorithm = Exclude<JwtAlgorithm, "HS256">;
const PROVIDER_ALGORITHMS: ProviderAlgorithm[] = ["RS256", "ES256", "PS256"];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The rules every token must pass, whichever key verifies it. */
export interface JwtClaimRules {
  readonly issuer?: string;
  readonly audience?: string;
  readonly userClaim: string;
  readonly clockToleranceSeconds: number;
  /** Refuse tokens without an `exp` claim: a token that never expires cannot be revoked by waiting. */
  readonly requireExpiry: boolean;
}

/** Tokens verified with a key given in the configuration. */
export interface LocalKeyJwtConfig extends JwtClaimRules {
  readonly keySource: "secret" | "public-key";
  /** One family only: HS256, or any of RS256/ES256/PS256 with a public key. */
  readonly algorithms: readonly JwtAlgorithm[];
  /** The HMAC secret (HS256) or the PEM public key (RS256/ES256/PS256). */
  readonly verificationKey: string;
  /** True when no JWT setting was given and the well-known development secret is in use. */
  readonly usingDevelopmentSecret: boolean;
}

/** Tokens verified with the keys an identity provider publishes (JWKS), which it may rotate. */
export interface ProviderKeyJwtConfig extends JwtClaimRules {
  readonly keySource: "provider";
  /** With OIDC_ISSUER the JWKS URL is read from the issuer's discovery document at start-up. */
  readonly keyLocation: { readonly oidcIssuer: string } | { readonly jwksUri: string };
  readonly algorithms: readonly ProviderAlgorithm[];
  readonly issuer: string;
  readonly audience: string;
  /** The claim that must hold `audience`: `aud`, or e.g. `client_id` for Amazon Cognito's access tokens. */
  readonly audienceClaim: string;
  readonly keyCache: ProviderKeyCacheConfig;
  readonly usingDevelopmentSecret: false;
}

export interface ProviderKeyCacheConfig {
  /** The provider's Cache-Control max-age is honoured within these bounds. */
  readonly minAgeMs: number;
  readonly maxAgeMs: number;
  /** A token with an unknown key id refetches the keys at most once per this period, process-wide. */
  readonly refetchCooldownMs: number;
  /** Bounds one discovery or JWKS request, from connecting to the last byte. */
  readonly fetchTimeoutMs: number;
}

export type JwtConfig = LocalKeyJwtConfig | ProviderKeyJwtConfig;

export interface DaprConfig {
  readonly host: string;
  readonly httpPort: number;
  readonly apiToken?: string;
  readonly pubsubName: string;
  readonly todoEventsTopic: string;
  readonly publishTimeoutMs: number;
  /** Most events in one bulk publish (relay rounds, coalesced trigger publishes); 1 = one per request. */
  readonly publishBulkMaxEntries: number;
}

/** Limits on a GraphQL document, checked before execution on every transport. */
export interface DocumentLimits {
  /** Nesting of fields; fragments count as the fields they contain. */
  readonly maxDepth: number;
  readonly maxAliases: number;
  /** Fields weighted by the page sizes they multiply (see document-limits.ts). */
  readonly maxCost: number;
  /** Lexical tokens; counted while parsing, so an oversized document is never parsed whole. */
  readonly maxTokens: number;
  readonly maxDirectives: number;
}

export interface WebSocketLimits {
  /** Operations open at once on one socket; more are refused with TOO_MANY_SUBSCRIPTIONS. */
  readonly maxSubscriptionsPerSocket: number;
  /** Sockets open at once for one user; more are closed with code 4429. */
  readonly maxSocketsPerUser: number;
}

export interface Config {
  readonly port: number;
  /** Interface to bind: 0.0.0.0 (all, for containers) unless HOST says otherwise. */
  readonly host: string;
  /** How long SIGTERM may take: in-flight requests and the relay's batch finish within it. */
  readonly shutdownTimeoutMs: number;
  readonly nodeEnv: string;
  readonly isProduction: boolean;
  readonly logLevel: LogLevel;
  /** `json` lines (default) or `pretty` human-readable output for local development. */
  readonly logFormat: "json" | "pretty";
  readonly jwt: JwtConfig;
  readonly dapr: DaprConfig;
  /**
   * Checked on the Dapr delivery route. Required in production unless
   * `allowUnauthenticatedDeliveries` says another layer authenticates the sidecar.
   */
  readonly appApiToken?: string;
  readonly allowUnauthenticatedDeliveries: boolean;
  readonly databaseUrl: string;
  /** SQLite: most write transactions of one event-loop turn committed together (group commit); 1 = each alone. */
  readonly writeBatchMax: number;
  readonly outbox: {
    readonly pollIntervalMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
  };
  /** Per-user operations per minute (token bucket); 0 turns rate limiting off. */
  readonly rateLimit: {
    readonly requestsPerMinute: number;
    readonly burst: number;
    /** Buckets kept at most; the least recently used are forgotten first. */
    readonly maxTrackedClients: number;
  };
  readonly documentLimits: DocumentLimits;
  readonly webSocket: WebSocketLimits;
  readonly events: {
    /** How long published and failed events stay in the log (history, resume) before pruning. */
    readonly retentionMs: number;
    /** How long a trigger's idempotency key is kept. */
    readonly idempotencyWindowMs: number;
  };
  readonly graphql: {
    readonly introspection: boolean;
    /** Apollo Sandbox at GET /graphql (never in production). */
    readonly sandbox: boolean;
  };
}

/** A start-up error that names the offending variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface LoadConfigResult {
  readonly config: Config;
  /** Things an operator must see at start-up (e.g. the development secret is in use). */
  readonly warnings: readonly string[];
}

export function loadConfig(env: Env): LoadConfigResult {
  const warnings: string[] = [];
  const nodeEnv = text(env, "NODE_ENV") ?? "development";
  const isProduction = nodeEnv === "production";
  const jwt = loadJwtConfig(env, isProduction, warnings);
  const appApiToken = text(env, "APP_API_TOKEN");
  const allowUnauthenticatedDeliveries = boolean(env, "ALLOW_UNAUTHENTICATED_DELIVERIES", false);
  if (appApiToken === undefined && isProduction && !allowUnauthenticatedDeliveries) {
    // Without it anyone who reaches the port can inject events into any user's subscription.
    throw new ConfigError(
      "APP_API_TOKEN",
      "is required in production: the Dapr delivery route would accept forged events " +
        "(set ALLOW_UNAUTHENTICATED_DELIVERIES=true only if the mesh authenticates the sidecar)",
    );
  }
  if (appApiToken === undefined && allowUnauthenticatedDeliveries) {
    warnings.push(
      "ALLOW_UNAUTHENTICATED_DELIVERIES=true: the Dapr delivery route accepts events from anyone who reaches the port. " +
        "This is unsafe unless the network or mesh only lets the sidecar reach it.",
    );
  }
  const config: Config = {
    port: integer(env, "PORT", 4000, 0, 65535),
    host: text(env, "HOST") ?? "0.0.0.0",
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 100, 600_000),
    nodeEnv,
    isProduction,
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, nodeEnv === "test" ? "silent" : "info"),
    logFormat: oneOf(env, "LOG_FORMAT", ["json", "pretty"] as const, "json"),
    jwt,
    dapr: {
      host: text(env, "DAPR_HOST") ?? "127.0.0.1",
      httpPort: integer(env, "DAPR_HTTP_PORT", 3500, 1, 65535),
      apiToken: text(env, "DAPR_API_TOKEN"),
      pubsubName: name(env, "PUBSUB_NAME", "kafka-pubsub"),
      todoEventsTopic: name(env, "TODO_EVENTS_TOPIC", "todo-events"),
      publishTimeoutMs: integer(env, "PUBLISH_TIMEOUT_MS", 5000, 1, 120_000),
      publishBulkMaxEntries: integer(env, "PUBLISH_BULK_MAX_ENTRIES", 100, 1, 1000),
    },
    appApiToken,
    allowUnauthenticatedDeliveries,
    databaseUrl: text(env, "DATABASE_URL") ?? "sqlite:./data/todos.db",
    writeBatchMax: integer(env, "WRITE_BATCH_MAX", 64, 1, 1000),
    outbox: {
      pollIntervalMs: integer(env, "OUTBOX_POLL_INTERVAL_MS", 500, 10, 60_000),
      retryBaseMs: integer(env, "OUTBOX_RETRY_BASE_MS", 250, 1, 60_000),
      retryMaxMs: integer(env, "OUTBOX_RETRY_MAX_MS", 30_000, 10, 3_600_000),
    },
    rateLimit: {
      requestsPerMinute: integer(env, "RATE_LIMIT_PER_MINUTE", 600, 0, 1_000_000),
      burst: integer(env, "RATE_LIMIT_BURST", 100, 1, 1_000_000),
      maxTrackedClients: integer(env, "RATE_LIMIT_MAX_TRACKED_CLIENTS", 50_000, 100, 10_000_000),
    },
    documentLimits: {
      maxDepth: integer(env, "GRAPHQL_MAX_DEPTH", 10, 1, 100),
      maxAliases: integer(env, "GRAPHQL_MAX_ALIASES", 30, 0, 10_000),
      maxCost: integer(env, "GRAPHQL_MAX_COST", 5000, 1, 10_000_000),
      maxTokens: integer(env, "GRAPHQL_MAX_TOKENS", 2000, 100, 1_000_000),
      maxDirectives: integer(env, "GRAPHQL_MAX_DIRECTIVES", 50, 0, 10_000),
    },
    webSocket: {
      maxSubscriptionsPerSocket: integer(env, "WS_MAX_SUBSCRIPTIONS_PER_SOCKET", 20, 1, 10_000),
      maxSocketsPerUser: integer(env, "WS_MAX_SOCKETS_PER_USER", 10, 1, 10_000),
    },
    events: {
      retentionMs: Math.round(decimal(env, "EVENT_RETENTION_DAYS", 30, 0.0001, 3650) * DAY_MS),
      idempotencyWindowMs: DAY_MS,
    },
    graphql: {
      introspection: boolean(env, "GRAPHQL_INTROSPECTION", !isProduction),
      sandbox: !isProduction && boolean(env, "GRAPHQL_SANDBOX", true),
    },
  };
  return { config: deepFreeze(config), warnings };
}

function loadJwtConfig(env: Env, isProduction: boolean, warnings: string[]): JwtConfig {
  const secret = text(env, "JWT_SECRET");
  const publicKey = readPublicKey(env);
  if (secret !== undefined && publicKey !== undefined) {
    throw new ConfigError("JWT_SECRET", "and JWT_PUBLIC_KEY/JWT_PUBLIC_KEY_FILE are mutually exclusive");
  }
  const common = {
    issuer: text(env, "JWT_ISSUER"),
    audience: text(env, "JWT_AUDIENCE"),
    userClaim: name(env, "JWT_USER_CLAIM", "sub"),
    clockToleranceSeconds: integer(env, "JWT_CLOCK_TOLERANCE_SECONDS", 5, 0, 300),
    requireExpiry: boolean(env, "JWT_REQUIRE_EXP", true),
  };
  const provider = loadProviderKeyConfig(env, common, secret !== undefined || publicKey !== undefined, warnings);
  if (provider !== undefined) return provider;
  if (text(env, "JWT_AUDIENCE_CLAIM") !== undefined) {
    throw new ConfigError("JWT_AUDIENCE_CLAIM", "is only read with OIDC_ISSUER or JWT_JWKS_URI");
  }

  if (publicKey !== undefined) {
    const algorithms = algorithmList(env, ["RS256", "ES256"]);
    if (algorithms.includes("HS256")) {
      // Accepting HS256 next to a public key invites algorithm confusion.
      throw new ConfigError("JWT_ALGORITHMS", "cannot include HS256 when a public key is configured");
    }
    return {
      ...common,
      keySource: "public-key",
      algorithms,
      verificationKey: publicKey,
      usingDevelopmentSecret: false,
    };
  }

  const algorithms = algorithmList(env, ["HS256"]);
  if (algorithms.some((algorithm) => algorithm !== "HS256")) {
    throw new ConfigError("JWT_ALGORITHMS", "may only be HS256 when JWT_SECRET is used");
  }
  if (secret !== undefined) {
    if (Buffer.byteLength(secret) < 32) {
      throw new ConfigError("JWT_SECRET", "must be at least 32 bytes long for HS256");
    }
    return { ...common, keySource: "secret", algorithms, verificationKey: secret, usingDevelopmentSecret: false };
  }
  if (isProduction) {
    throw new ConfigError(
      "JWT_SECRET",
      "is required in production (or JWT_PUBLIC_KEY / JWT_PUBLIC_KEY_FILE, or OIDC_ISSUER / JWT_JWKS_URI)",
    );
  }
  warnings.push(
    "No JWT_SECRET, JWT_PUBLIC_KEY or OIDC_ISSUER set: using the PUBLIC development secret. Anyone can mint tokens. Never use this outside development.",
  );
  return {
    ...common,
    keySource: "secret",
    algorithms,
    verificationKey: DEVELOPMENT_JWT_SECRET,
    usingDevelopmentSecret: true,
  };
}

/** OIDC_ISSUER or JWT_JWKS_URI: keys from an identity provider. Undefined when neither is set. */
function loadProviderKeyConfig(
  env: Env,
  common: JwtClaimRules,
  hasLocalKey: boolean,
  warnings: string[],
): ProviderKeyJwtConfig | undefined {
  const oidcIssuer = text(env, "OIDC_ISSUER");
  const jwksUri = text(env, "JWT_JWKS_URI");
  if (oidcIssuer === undefined && jwksUri === undefined) return undefined;
  const variable = oidcIssuer !== undefined ? "OIDC_ISSUER" : "JWT_JWKS_URI";
  if (oidcIssuer !== undefined && jwksUri !== undefined) {
    throw new ConfigError("OIDC_ISSUER", "and JWT_JWKS_URI are mutually exclusive (discovery finds the JWKS URL)");
  }
  if (hasLocalKey) {
    throw new ConfigError(variable, "cannot be combined with JWT_SECRET or JWT_PUBLIC_KEY/JWT_PUBLIC_KEY_FILE");
  }
  const url = httpUrl(oidcIssuer ?? jwksUri ?? "", variable, warnings);
  if (common.audience === undefined) {
    // Providers sign tokens for every application they serve; the audience says which are ours.
    throw new ConfigError(
      "JWT_AUDIENCE",
      `is required with ${variable}: without it tokens minted for any other client of the provider would be accepted`,
    );
  }
  let issuer: string;
  if (oidcIssuer !== undefined) {
    if (common.issuer !== undefined && common.issuer !== oidcIssuer) {
      throw new ConfigError("JWT_ISSUER", `must be left unset or equal OIDC_ISSUER ("${oidcIssuer}")`);
    }
    issuer = oidcIssuer;
  } else {
    if (common.issuer === undefined) {
      // A JWKS can be shared by many issuers (e.g. all tenants of a cloud provider).
      throw new ConfigError("JWT_ISSUER", "is required with JWT_JWKS_URI: a JWKS may be shared by several issuers");
    }
    issuer = common.issuer;
  }
  const algorithms = algorithmList(env, PROVIDER_ALGORITHMS);
  if (algorithms.includes("HS256")) {
    // A JWKS publishes public keys: an HS256 token "verified" with one would be signed with public data.
    throw new ConfigError(
      "JWT_ALGORITHMS",
      `cannot include HS256 with ${variable}; allowed: ${PROVIDER_ALGORITHMS.join(", ")}`,
    );
  }
  const minAgeSeconds = integer(env, "JWT_JWKS_CACHE_MIN_SECONDS", 60, 1, 86_400);
  const maxAgeSeconds = integer(env, "JWT_JWKS_CACHE_MAX_SECONDS", 600, 1, 7 * 86_400);
  if (maxAgeSeconds < minAgeSeconds) {
    throw new ConfigError(
      "JWT_JWKS_CACHE_MAX_SECONDS",
      `must not be below JWT_JWKS_CACHE_MIN_SECONDS (${minAgeSeconds}), got ${maxAgeSeconds}`,
    );
  }
  return {
    ...common,
    keySource: "provider",
    keyLocation: oidcIssuer !== undefined ? { oidcIssuer: url } : { jwksUri: url },
    algorithms: algorithms as ProviderAlgorithm[],
    issuer,
    audience: common.audience,
    audienceClaim: name(env, "JWT_AUDIENCE_CLAIM", "aud"),
    keyCache: {
      minAgeMs: minAgeSeconds * 1000,
      maxAgeMs: maxAgeSeconds * 1000,
      refetchCooldownMs: integer(env, "JWT_JWKS_REFETCH_COOLDOWN_SECONDS", 30, 1, 3600) * 1000,
      fetchTimeoutMs: integer(env, "JWT_JWKS_TIMEOUT_MS", 5000, 100, 60_000),
    },
    usingDevelopmentSecret: false,
  };
}

/** An absolute http(s) URL, returned as given: an issuer is compared to `iss` character for character. */
function httpUrl(raw: string, variable: string, warnings: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(variable, `must be an https:// URL, got "${raw}"`);
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") {
    throw new ConfigError(variable, "must not carry credentials or a #fragment");
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    warnings.push(
      `${variable} uses plain http (${url.host}): anyone on the network path can replace the signing keys. Use https outside a trusted network.`,
    );
  }
  return raw;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function readPublicKey(env: Env): string | undefined {
  const inline = text(env, "JWT_PUBLIC_KEY");
  const file = text(env, "JWT_PUBLIC_KEY_FILE");
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError("JWT_PUBLIC_KEY", "and JWT_PUBLIC_KEY_FILE are mutually exclusive");
  }
  if (file !== undefined) {
    try {
      return assertPem(readFileSync(file, "utf8"), "JWT_PUBLIC_KEY_FILE");
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(
        "JWT_PUBLIC_KEY_FILE",
        `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  // Environments often flatten newlines; accept the literal "\n" form too.
  return inline === undefined ? undefined : assertPem(inline.replace(/\\n/g, "\n"), "JWT_PUBLIC_KEY");
}

function assertPem(value: string, variable: string): string {
  if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(value)) {
    throw new ConfigError(variable, "must be a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  return value;
}

function algorithmList(env: Env, fallback: JwtAlgorithm[]): JwtAlgorithm[] {
  const raw = text(env, "JWT_ALGORITHMS");
  if (raw === undefined) return fallback;
  const algorithms = raw.split(",").map((part) => part.trim());
  for (const algorithm of algorithms) {
    if (!SUPPORTED_ALGORITHMS.includes(algorithm as JwtAlgorithm)) {
      throw new ConfigError(
        "JWT_ALGORITHMS",
        `contains unsupported algorithm "${algorithm}" (allowed: ${SUPPORTED_ALGORITHMS.join(", ")})`,
      );
    }
  }
  return algorithms as JwtAlgorithm[];
}

function text(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = text(env, variable);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(variable, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A non-negative decimal number ("30", "0.5"). */
function decimal(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = text(env, variable);
  if (raw === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(variable, `must be a number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, variable: string, fallback: boolean): boolean {
  const raw = text(env, variable)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(variable, `must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, variable: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, variable);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T))
    throw new ConfigError(variable, `must be one of ${allowed.join(", ")}, got "${raw}"`);
  return raw as T;
}

/** Names end up in URLs and claim look-ups: keep them to a safe character set. */
function name(env: Env, variable: string, fallback: string): string {
  const raw = text(env, variable) ?? fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(raw)) {
    throw new ConfigError(variable, `must be a simple name (letters, digits, "_", ".", "-"), got "${raw}"`);
  }
  return raw;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
