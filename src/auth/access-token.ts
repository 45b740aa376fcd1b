/**
 * Verifies a bearer JWT and turns it into the authenticated user. Every
 * failure becomes an `AuthenticationFailure` with a short, client-safe reason.
 */
import { createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import type { JwtAlgorithm, JwtClaimRules, LocalKeyJwtConfig } from "../config/config";
import { MAX_USER_ID_LENGTH } from "../shared/user-id";

export interface AuthenticatedUser {
  /** The verified subject; the only source of identity in the system. */
  readonly id: string;
  /**
   * When the token stops being accepted (epoch ms): its `exp` plus the clock tolerance, the same
   * instant on HTTP and WebSocket. Long-lived connections close then.
   */
  readonly tokenExpiresAt?: number;
}

/** Tokens beyond this size are refused before any parsing (typical JWTs are < 2 KiB). */
export const MAX_TOKEN_LENGTH = 8192;

export class AuthenticationFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "AuthenticationFailure";
  }
}

export type AccessTokenVerifier = (token: string) => AuthenticatedUser;

/**
 * Builds a verifier with the key parsed once: per-request key parsing is both
 * slow and a place for mistakes.
 */
export function createAccessTokenVerifier(config: LocalKeyJwtConfig): AccessTokenVerifier {
  const key: KeyObject =
    config.keySource === "secret"
      ? createSecretKey(Buffer.from(config.verificationKey, "utf8"))
      : createPublicKey(config.verificationKey);
  const options = verifyOptionsFor(config, config.algorithms);

  return (token) => {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationFailure("token too large");
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, key, options);
    } catch (error) {
      throw new AuthenticationFailure(describeVerifyError(error));
    }
    return userFromClaims(claims, config);
  };
}

/** jsonwebtoken's options for the claim rules, with the algorithms the key may sign with. */
export function verifyOptionsFor(
  rules: JwtClaimRules,
  algorithms: readonly JwtAlgorithm[],
): jwt.VerifyOptions & { complete: false } {
  return {
    algorithms: [...algorithms],
    clockTolerance: rules.clockToleranceSeconds,
    complete: false,
    ...(rules.issuer === undefined ? {} : { issuer: rules.issuer }),
    ...(rules.audience === undefined ? {} : { audience: rules.audience }),
  };
}

/** The checks jsonwebtoken leaves to us, on claims whose signature it verified; then the user. */
export function userFromClaims(claims: jwt.JwtPayload | string, rules: JwtClaimRules): AuthenticatedUser {
  if (typeof claims !== "object" || claims === null) throw new AuthenticationFailure("malformed token");
  const toleranceMs = rules.clockToleranceSeconds * 1000;
  // jsonwebtoken accepts a token without `exp` forever, and checks `iat` only against a maxAge.
  if (typeof claims.exp !== "number" && rules.requireExpiry) throw new AuthenticationFailure("token has no expiry");
  if (typeof claims.iat === "number" && claims.iat * 1000 > Date.now() + toleranceMs) {
    throw new AuthenticationFailure("token issued in the future");
  }
  const id = userIdFrom(claims[rules.userClaim], rules.userClaim);
  return typeof claims.exp === "number" ? { id, tokenExpiresAt: claims.exp * 1000 + toleranceMs } : { id };
}

function userIdFrom(value: unknown, claim: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new AuthenticationFailure(`missing or invalid "${claim}" claim`);
  }
  // Control characters would end up in Kafka headers and logs.
  // eslint-disable-next-line no-control-regex -- matching them is the point
  if (value.length > MAX_USER_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new AuthenticationFailure(`invalid "${claim}" claim`);
  }
  return value;
}

/** A short, client-safe reason for a jsonwebtoken error. */
export function describeVerifyError(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return "token expired";
  if (error instanceof jwt.NotBeforeError) return "token not yet valid";
  if (!(error instanceof jwt.JsonWebTokenError)) return "invalid token";
  const message = error.message;
  if (message === "invalid signature") return "invalid signature";
  if (message === "invalid algorithm" || message.startsWith("jwt signature is required"))
    return "unsupported algorithm";
  if (message.startsWith("jwt issuer invalid")) return "wrong issuer";
  if (message.startsWith("jwt audience invalid")) return "wrong audience";
  if (message === "jwt malformed" || message.startsWith("invalid token") || message.startsWith("Unexpected token")) {
    return "malformed token";
  }
  return "invalid token";
}
