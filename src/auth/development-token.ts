/** Signs HS256 tokens for local use (Sandbox, curl, `npm run token`). */
import jwt from "jsonwebtoken";
import type { JwtConfig } from "../config/config";

export interface DevelopmentTokenOptions {
  readonly subject: string;
  /** A jsonwebtoken duration such as "1h" or "15m". */
  readonly ttl: string;
}

export function signDevelopmentToken(config: JwtConfig, options: DevelopmentTokenOptions): string {
  if (config.keySource !== "secret") {
    throw new Error(
      "Development tokens need an HS256 setup (JWT_SECRET or the development secret); a public key cannot sign. " +
        "With an identity provider, ask it for a token (see the README).",
    );
  }
  // The subject also goes into a custom user claim when one is configured.
  const claims = config.userClaim === "sub" ? {} : { [config.userClaim]: options.subject };
  return jwt.sign(claims, config.verificationKey, {
    algorithm: "HS256",
    subject: options.subject,
    expiresIn: options.ttl as jwt.SignOptions["expiresIn"],
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  });
}
