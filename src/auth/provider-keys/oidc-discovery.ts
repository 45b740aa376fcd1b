/**
 * OpenID Connect discovery, read once at start-up: where the issuer publishes
 * its keys. A document that names another issuer is refused, as the
 * discovery specification requires: otherwise a misconfigured or hostile
 * endpoint could make us trust keys and tokens of someone else.
 */
import { ConfigError } from "../../config/config";
import { fetchJson, FetchFailure } from "./http-json";

export interface DiscoveredProvider {
  readonly issuer: string;
  readonly jwksUri: string;
}

/** The discovery document is small; anything far larger is not one. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

export async function discoverProvider(oidcIssuer: string, timeoutMs: number): Promise<DiscoveredProvider> {
  // The well-known path is appended to the issuer without its trailing slash (Auth0's issuers end in "/").
  const url = `${oidcIssuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    ({ body: document } = await fetchJson(url, { timeoutMs, maxBytes: MAX_DOCUMENT_BYTES }));
  } catch (error) {
    if (!(error instanceof FetchFailure)) throw error;
    throw new ConfigError("OIDC_ISSUER", `discovery failed: ${url} ${error.reason}`);
  }
  if (typeof document !== "object" || document === null) {
    throw new ConfigError("OIDC_ISSUER", `discovery failed: ${url} is not a JSON object`);
  }
  const { issuer, jwks_uri: jwksUri } = document as { issuer?: unknown; jwks_uri?: unknown };
  if (issuer !== oidcIssuer) {
    throw new ConfigError(
      "OIDC_ISSUER",
      `must be exactly the issuer the provider announces: ${url} says ${JSON.stringify(issuer)}, not "${oidcIssuer}"`,
    );
  }
  if (typeof jwksUri !== "string" || !isHttpUrl(jwksUri)) {
    throw new ConfigError("OIDC_ISSUER", `discovery failed: ${url} has no http(s) jwks_uri`);
  }
  if (oidcIssuer.startsWith("https:") && !jwksUri.startsWith("https:")) {
    throw new ConfigError("OIDC_ISSUER", `discovery names a plain-http jwks_uri (${jwksUri}) for an https issuer`);
  }
  return { issuer, jwksUri };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}
