/**
 * Remembers tokens that verified, so a client sending the same bearer token on every request
 * (what clients do) pays for one signature check per token rather than one per request. The
 * benchmark's profile put jsonwebtoken's work (decoding, HMAC, two JSON parses, claim checks) at
 * about a tenth of the `me` query's CPU.
 *
 * What is remembered is the exact token string and the user it verified to. A hit is served only
 * while the token is unexpired and for at most `maxAgeMs` after it verified, so a change of
 * settings takes effect within that time without a restart; a change of an identity provider's
 * keys calls `forget()`, so a removed key stops working with the refetch that removes it. Failures are never remembered: a
 * flood of bad tokens cannot fill the cache, and each one is checked (and refused) afresh.
 */
import { LRUCache } from "lru-cache";
import type { AuthenticatedUser } from "./access-token";

export interface VerifiedTokenCacheOptions {
  /** Budget for the remembered tokens, counted as their length plus a fixed overhead per entry. */
  readonly maxBytes: number;
  /** How long a verification is trusted, at most. */
  readonly maxAgeMs: number;
  /**
   * False while remembered verifications must not be used (the keys they were checked with are
   * due for a refresh): the token is verified again, which is what starts the refresh.
   */
  readonly trusted?: () => boolean;
  readonly now?: () => number;
}

/** Per entry, beyond the token itself: the user object, the cache's own node and map slot. */
const ENTRY_OVERHEAD_BYTES = 256;

export interface CachedVerifier<V> {
  /** The verifier with the cache in front of it. */
  readonly verify: V;
  /** Forgets every verification, e.g. when the keys they were checked with may have changed. */
  forget(): void;
}

/** A synchronous verifier stays synchronous; an asynchronous one answers hits without waiting. */
export function cacheVerifiedTokens(
  verify: (token: string) => AuthenticatedUser,
  options: VerifiedTokenCacheOptions,
): CachedVerifier<(token: string) => AuthenticatedUser>;
export function cacheVerifiedTokens(
  verify: (token: string) => AuthenticatedUser | Promise<AuthenticatedUser>,
  options: VerifiedTokenCacheOptions,
): CachedVerifier<(token: string) => AuthenticatedUser | Promise<AuthenticatedUser>>;
export function cacheVerifiedTokens(
  verify: (token: string) => AuthenticatedUser | Promise<AuthenticatedUser>,
  options: VerifiedTokenCacheOptions,
): CachedVerifier<(token: string) => AuthenticatedUser | Promise<AuthenticatedUser>> {
  const now = options.now ?? Date.now;
  const verified = new LRUCache<string, { readonly user: AuthenticatedUser; readonly until: number }>({
    maxSize: options.maxBytes,
    sizeCalculation: (_entry, token) => token.length + ENTRY_OVERHEAD_BYTES,
  });
  const remember = (token: string, user: AuthenticatedUser): AuthenticatedUser => {
    const until = Math.min(now() + options.maxAgeMs, user.tokenExpiresAt ?? Number.POSITIVE_INFINITY);
    // A token longer than the whole budget is simply not remembered.
    if (token.length + ENTRY_OVERHEAD_BYTES <= options.maxBytes) verified.set(token, { user, until });
    return user;
  };

  return {
    verify: (token) => {
      const hit = verified.get(token);
      if (hit !== undefined && (options.trusted?.() ?? true)) {
        if (now() < hit.until) return hit.user;
        verified.delete(token);
      }
      const user = verify(token);
      return user instanceof Promise ? user.then((resolved) => remember(token, resolved)) : remember(token, user);
    },
    forget: () => verified.clear(),
  };
}
