/**
 * Picks how tokens are verified: with the configured secret or public key, or
 * with the keys an identity provider publishes. The latter needs start-up
 * work (discovery, the first key fetch), hence the promise.
 */
import type { JwtConfig } from "../config/config";
import type { Logger } from "../logging/logger";
import { createAccessTokenVerifier, type AuthenticatedUser } from "./access-token";
import { cacheVerifiedTokens } from "./verified-token-cache";
import { jwksSource } from "./provider-keys/jwks-source";
import { discoverProvider } from "./provider-keys/oidc-discovery";
import { createProviderTokenVerifier } from "./provider-keys/provider-token-verifier";
import { SigningKeyCache, type KeyFetchEvent, type SigningKeyStatus } from "./provider-keys/signing-key-cache";

export type { KeyFetchEvent, SigningKeyStatus };

export interface TokenVerifier {
  readonly verify: (token: string) => AuthenticatedUser | Promise<AuthenticatedUser>;
  /** The provider's keys as /readyz reports them; absent with a local key. */
  readonly signingKeys?: () => SigningKeyStatus;
}

export interface TokenVerifierDependencies {
  readonly logger: Logger;
  /** Every fetch of the provider's keys, when it ends (metrics count them). */
  readonly onKeyFetch?: (event: KeyFetchEvent) => void;
}

/**
 * Verified tokens are remembered for at most a minute, within 4 MiB (about 14 000 typical tokens):
 * a client's repeated token costs one signature check a minute instead of one per request.
 */
const VERIFIED_TOKEN_CACHE = { maxBytes: 4 * 1024 * 1024, maxAgeMs: 60_000 };

/** Throws ConfigError (naming OIDC_ISSUER) when discovery fails; a failed first key fetch is only logged. */
export async function createTokenVerifier(config: JwtConfig, deps: TokenVerifierDependencies): Promise<TokenVerifier> {
  if (config.keySource !== "provider") {
    return { verify: cacheVerifiedTokens(createAccessTokenVerifier(config), VERIFIED_TOKEN_CACHE).verify };
  }
  const { logger } = deps;
  const timeoutMs = config.keyCache.fetchTimeoutMs;
  const jwksUri =
    "jwksUri" in config.keyLocation
      ? config.keyLocation.jwksUri
      : (await discoverProvider(config.keyLocation.oidcIssuer, timeoutMs)).jwksUri;
  // Built first: the key cache's first fetch already tells it to forget.
  const verified = cacheVerifiedTokens((token) => verifyWithProviderKeys(token), {
    ...VERIFIED_TOKEN_CACHE,
    trusted: () => !cache.isRefreshDue(),
  });
  const cache = new SigningKeyCache({
    source: jwksSource({ jwksUri, algorithms: config.algorithms, timeoutMs }),
    tuning: config.keyCache,
    onFetch: (event) => {
      if (event.outcome === "ok") {
        // The key set was replaced: what was verified with the old one is checked again.
        verified.forget();
        logger.info({ trigger: event.trigger, keys: cache.status().count }, "identity provider keys loaded");
      } else {
        const message = "identity provider keys could not be fetched; the keys already held stay in use";
        const fields = { trigger: event.trigger, reason: event.reason, jwksUri };
        if (event.error === undefined) logger.warn(fields, message);
        else logger.error({ ...fields, err: event.error }, message);
      }
      deps.onKeyFetch?.(event);
    },
  });
  await cache.load();
  logger.info(
    { issuer: config.issuer, jwksUri, audience: config.audience },
    "verifying tokens with the provider's keys",
  );
  const verifyWithProviderKeys = createProviderTokenVerifier(config, cache);
  return { verify: verified.verify, signingKeys: () => cache.status() };
}
