/**
 * Verifies a bearer JWT against the identity provider's keys. What the
 * unverified token says is used only to refuse early: a token that names
 * another issuer, another audience or an algorithm we do not accept is
 * refused before any key is looked up, so such tokens never make us ask the
 * provider for keys.
 */
import jwt from "jsonwebtoken";
import type { ProviderKeyJwtConfig } from "../../config/config";
import {
  AuthenticationFailure,
  describeVerifyError,
  MAX_TOKEN_LENGTH,
  userFromClaims,
  verifyOptionsFor,
  type AuthenticatedUser,
} from "../access-token";
import type { ProviderKey } from "./jwks-source";

/** Key ids are short (Keycloak's are 43 characters); a longer one is not looked up. */
const MAX_KID_LENGTH = 256;

export interface ProviderKeys {
  keyFor(kid: string): Promise<ProviderKey | undefined>;
}

export function createProviderTokenVerifier(
  config: ProviderKeyJwtConfig,
  keys: ProviderKeys,
): (token: string) => Promise<AuthenticatedUser> {
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationFailure("token too large");
    const decoded = jwt.decode(token, { complete: true });
    if (decoded === null || typeof decoded.payload !== "object" || decoded.payload === null) {
      throw new AuthenticationFailure("malformed token");
    }
    const { header, payload } = decoded;
    if (!config.algorithms.includes(header.alg as never)) throw new AuthenticationFailure("unsupported algorithm");
    if (payload.iss !== config.issuer) throw new AuthenticationFailure("wrong issuer");
    // Checked here, before the signature, for every audience claim: the payload jwt.verify checks below is this one.
    const audience: unknown = payload[config.audienceClaim];
    if (!(Array.isArray(audience) ? audience : [audience]).includes(config.audience)) {
      throw new AuthenticationFailure("wrong audience");
    }
    if (typeof header.kid !== "string" || header.kid === "") throw new AuthenticationFailure("missing key id");
    const key = header.kid.length > MAX_KID_LENGTH ? undefined : await keys.keyFor(header.kid);
    if (key === undefined) throw new AuthenticationFailure("unknown signing key");

    let claims: jwt.JwtPayload | string;
    try {
      // The key's own algorithms: an RSA key never verifies an ES256 token, nor an HMAC one.
      const rules = config.audienceClaim === "aud" ? config : { ...config, audience: undefined };
      claims = jwt.verify(token, key.key, verifyOptionsFor(rules, key.algorithms));
    } catch (error) {
      throw new AuthenticationFailure(describeVerifyError(error));
    }
    return userFromClaims(claims, config);
  };
}
