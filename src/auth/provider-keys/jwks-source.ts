/**
 * Reads an identity provider's JWKS and turns it into verification keys, each
 * pinned to the algorithms its type can sign with. jwks-rsa parses the JWKs
 * (signing keys only, through jose); its own cache and rate limit are off
 * because SigningKeyCache replaces them (see there for why).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { JwksClient } from "jwks-rsa";
import type { ProviderAlgorithm } from "../../config/config";
import { fetchJson, FetchFailure } from "./http-json";

export interface ProviderKey {
  readonly kid: string;
  readonly key: KeyObject;
  /** The configured algorithms that suit the key's type, narrowed to its `alg` when the JWK names one. */
  readonly algorithms: readonly ProviderAlgorithm[];
}

export interface KeySet {
  readonly keys: ReadonlyMap<string, ProviderKey>;
  /** The provider's Cache-Control max-age (0 for no-cache/no-store); undefined when it said nothing. */
  readonly maxAgeMs?: number;
}

/** Fetches the provider's current keys; throws FetchFailure when it cannot. */
export type KeySetSource = () => Promise<KeySet>;

export interface JwksSourceOptions {
  readonly jwksUri: string;
  readonly algorithms: readonly ProviderAlgorithm[];
  readonly timeoutMs: number;
}

/** A JWKS of a handful of keys is a few KiB; a provider with many tenants' keys still far below this. */
const MAX_JWKS_BYTES = 512 * 1024;

export function jwksSource(options: JwksSourceOptions): KeySetSource {
  return async () => {
    let headers: Headers | undefined;
    const client = new JwksClient({
      jwksUri: options.jwksUri,
      cache: false,
      rateLimit: false,
      fetcher: async (uri) => {
        const fetched = await fetchJson(uri, { timeoutMs: options.timeoutMs, maxBytes: MAX_JWKS_BYTES });
        headers = fetched.headers;
        const body = fetched.body as { keys?: unknown } | null;
        if (typeof body !== "object" || body === null || !Array.isArray(body.keys)) {
          throw new FetchFailure("answered a document without a keys array");
        }
        return { keys: body.keys };
      },
    });
    let signingKeys: Awaited<ReturnType<JwksClient["getSigningKeys"]>>;
    try {
      signingKeys = await client.getSigningKeys();
    } catch (error) {
      if (error instanceof FetchFailure) throw error;
      // jwks-rsa's JwksError: no keys, or no signing keys among them.
      throw new FetchFailure(`answered no usable signing key (${(error as Error).message})`);
    }
    const keys = new Map<string, ProviderKey>();
    for (const signingKey of signingKeys) {
      const usable = pinned(signingKey, options.algorithms);
      if (usable !== undefined) keys.set(usable.kid, usable);
    }
    if (keys.size === 0) throw new FetchFailure(`answered no key for ${options.algorithms.join(", ")}`);
    return { keys, maxAgeMs: maxAgeOf(headers?.get("cache-control") ?? null) };
  };
}

/** Undefined for a key without a `kid` (tokens name their key) or that signs none of the configured algorithms. */
function pinned(
  signingKey: { kid?: string; alg?: string; getPublicKey(): string },
  configured: readonly ProviderAlgorithm[],
): ProviderKey | undefined {
  if (typeof signingKey.kid !== "string" || signingKey.kid === "") return undefined;
  const key = createPublicKey(signingKey.getPublicKey());
  const algorithms = algorithmsFor(key).filter(
    (algorithm) => configured.includes(algorithm) && (signingKey.alg === undefined || signingKey.alg === algorithm),
  );
  return algorithms.length === 0 ? undefined : { kid: signingKey.kid, key, algorithms };
}

/** What a key of this type can sign with; an RSA key serves both padding schemes. */
function algorithmsFor(key: KeyObject): ProviderAlgorithm[] {
  if (key.asymmetricKeyType === "rsa") return ["RS256", "PS256"];
  if (key.asymmetricKeyType === "rsa-pss") return ["PS256"];
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return ["ES256"];
  return [];
}

function maxAgeOf(cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  if (/(^|[\s,])(no-cache|no-store)([\s,=]|$)/i.test(cacheControl)) return 0;
  const match = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return match === null ? undefined : Number(match[1]) * 1000;
}
