/**
 * What the auth tier asks Keycloak for: tokens (client credentials, a user's
 * password grant) from the realms in test/auth/realms/, and key changes
 * through the admin REST API, as an operator rotating keys would make them.
 */
import type { Keycloak } from "../../stack/keycloak";

/** Confidential clients of the `todo` realm file, with their secrets (test values). */
export const CLIENTS = {
  /** Adds `todo-api` to `aud`; allows the password grant for alice. */
  tests: { id: "todo-api-tests", secret: "todo-api-tests-secret" },
  es256: { id: "todo-api-es256", secret: "todo-api-es256-secret" },
  ps256: { id: "todo-api-ps256", secret: "todo-api-ps256-secret" },
  /** Access tokens live 4 seconds. */
  shortLived: { id: "todo-api-short-lived", secret: "todo-api-short-lived-secret" },
  /** Another application of the realm: its tokens are not for `todo-api`. */
  billing: { id: "billing-api", secret: "billing-api-secret" },
} as const;
export const ALICE = { username: "alice", password: "alice-password" } as const;

export interface TokenRequest {
  readonly realm?: string;
  readonly client?: { readonly id: string; readonly secret: string };
  /** Ask at another origin than Keycloak's own (e.g. http://localhost:<port>): Keycloak names that issuer. */
  readonly origin?: string;
  /** A user's password grant instead of client credentials. */
  readonly user?: { readonly username: string; readonly password: string };
}

export async function accessToken(keycloak: Keycloak, request: TokenRequest = {}): Promise<string> {
  const client = request.client ?? CLIENTS.tests;
  const grant: Record<string, string> =
    request.user === undefined
      ? { grant_type: "client_credentials" }
      : { grant_type: "password", username: request.user.username, password: request.user.password };
  const body = await postForm(
    `${request.origin ?? keycloak.origin}/realms/${request.realm ?? "todo"}/protocol/openid-connect/token`,
    {
      ...grant,
      client_id: client.id,
      client_secret: client.secret,
    },
  );
  return body.access_token as string;
}

/** The `kid` a token's header names. */
export function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")) as { kid?: string };
  if (header.kid === undefined) throw new Error("token without kid");
  return header.kid;
}

interface KeyInfo {
  readonly kid: string;
  readonly algorithm: string;
  /** The id of the key provider component that holds the key. */
  readonly providerId: string;
  readonly status: string;
}

/** Key changes through the admin REST API, as the bootstrap admin. */
export class KeycloakAdmin {
  constructor(
    private readonly keycloak: Keycloak,
    private readonly realm = "todo",
  ) {}

  /** The key the realm signs RS256 tokens with now. */
  async activeKid(algorithm = "RS256"): Promise<string> {
    const { active } = (await this.get(`/keys`)) as { active: Record<string, string> };
    return active[algorithm];
  }

  /** The RS256 keys the realm has, active or not. */
  async rsaKeys(): Promise<KeyInfo[]> {
    const { keys } = (await this.get(`/keys`)) as { keys: KeyInfo[] };
    return keys.filter((key) => key.algorithm === "RS256");
  }

  /** Adds a generated RSA key with a higher priority than the realm's default one: it signs from now on. */
  async addActiveRsaKey(name: string, priority = 200): Promise<{ providerId: string; kid: string }> {
    const realmId = ((await this.get("")) as { id: string }).id;
    const response = await this.request("POST", "/components", {
      name,
      providerId: "rsa-generated",
      providerType: "org.keycloak.keys.KeyProvider",
      parentId: realmId,
      config: {
        priority: [String(priority)],
        enabled: ["true"],
        active: ["true"],
        keySize: ["2048"],
        algorithm: ["RS256"],
      },
    });
    const providerId = response.headers.get("location")?.split("/").pop();
    if (providerId === undefined) throw new Error("Keycloak did not say where the new key provider is");
    const key = (await this.rsaKeys()).find((candidate) => candidate.providerId === providerId);
    if (key === undefined) throw new Error(`no key for provider ${providerId}`);
    return { providerId, kid: key.kid };
  }

  /** Removes a key provider and so its key: Keycloak stops publishing it. */
  async removeKeyProvider(providerId: string): Promise<void> {
    await this.request("DELETE", `/components/${providerId}`);
  }

  private async get(path: string): Promise<unknown> {
    return (await this.request("GET", path)).json();
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const token = await postForm(`${this.keycloak.origin}/realms/master/protocol/openid-connect/token`, {
      grant_type: "password",
      client_id: "admin-cli",
      username: "admin",
      password: this.keycloak.adminPassword,
    });
    const response = await fetch(`${this.keycloak.origin}/admin/realms/${this.realm}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token.access_token as string}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`Keycloak admin ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response;
  }
}

async function postForm(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", body: new URLSearchParams(form) });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}
