/**
 * The API, in process with the in-memory publisher, verifying tokens with a
 * Keycloak realm's keys; and the two ways a client asks it who it is: `me`
 * over HTTP and over the WebSocket.
 */
import { print } from "graphql";
import { MeDocument } from "../../generated/graphql";
import type { Keycloak } from "../../stack/keycloak";
import { openSocket, SocketClosedError } from "../../support/graphql-ws-client";
import { postGraphQL, startTestServer, type TestServer } from "../../support/test-server";

/** `me` answered with the user id, or the refusal as the client saw it. */
export type HttpAnswer =
  { readonly id: string } | { readonly status: number; readonly code: unknown; readonly message: string | undefined };
/** A socket that was acknowledged and answered `me`, or closed with this code. */
export type SocketAnswer = { readonly id: string } | { readonly closeCode: number };

export interface ApiWithProvider {
  readonly server: TestServer;
  meOverHttp(token: string): Promise<HttpAnswer>;
  meOverSocket(token: string): Promise<SocketAnswer>;
  /** todo_jwks_fetches_total, summed over the labels given (all when none). */
  jwksFetches(labels?: Partial<Record<"trigger" | "outcome", string>>): Promise<number>;
  /** /readyz: its status and the signing keys it reports. */
  readiness(): Promise<{ status: number; signingKeys: unknown }>;
  stop(): Promise<void>;
}

/** `env` adds to or overrides: OIDC_ISSUER of `realm`, JWT_AUDIENCE=todo-api, no JWT_SECRET. */
export async function startApiWithProvider(
  keycloak: Keycloak,
  env: Record<string, string | undefined> = {},
  realm = "todo",
): Promise<ApiWithProvider> {
  const server = await startTestServer({
    env: { JWT_SECRET: undefined, OIDC_ISSUER: keycloak.issuer(realm), JWT_AUDIENCE: "todo-api", ...env },
  });
  return {
    server,
    async meOverHttp(token) {
      const { status, body } = await postGraphQL(server.origin, MeDocument, {}, { authorization: `Bearer ${token}` });
      if (body.data?.me !== undefined && body.data.me !== null) return { id: body.data.me.id };
      const [error] = body.errors ?? [];
      return { status, code: error?.extensions?.code, message: error?.message };
    },
    async meOverSocket(token) {
      const socket = openSocket(server.origin, `Bearer ${token}`);
      try {
        await socket.connected;
        const result = await socket.run(print(MeDocument));
        const me = (result.data as { me?: { id: string } } | null | undefined)?.me;
        if (me === undefined) throw new Error(`me over the socket answered ${JSON.stringify(result)}`);
        return { id: me.id };
      } catch (error) {
        if (error instanceof SocketClosedError) return { closeCode: error.closed.code };
        throw error;
      } finally {
        await socket.dispose();
      }
    },
    async jwksFetches(labels = {}) {
      const { values } = await server.app.metrics.jwksFetches.get();
      return values
        .filter(({ labels: own }) =>
          (Object.entries(labels) as ["trigger" | "outcome", string][]).every(([name, value]) => own[name] === value),
        )
        .reduce((sum, { value }) => sum + value, 0);
    },
    async readiness() {
      const response = await fetch(`${server.origin}/readyz`);
      const body = (await response.json()) as { checks: { signingKeys?: unknown } };
      return { status: response.status, signingKeys: body.checks.signingKeys };
    },
    stop: () => server.stop(),
  };
}

/** A well-formed token for our issuer and audience whose `kid` no provider published, and whose signature is noise. */
export function tokenWithUnknownKid(issuer: string, kid: string): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString("base64url");
  const header = encode({ alg: "RS256", typ: "JWT", kid });
  const payload = encode({ iss: issuer, aud: "todo-api", sub: "intruder", exp: Math.floor(Date.now() / 1000) + 300 });
  return `${header}.${payload}.${Buffer.from(kid.repeat(16)).toString("base64url").slice(0, 342)}`;
}

export const unauthenticated = (reason: string): HttpAnswer => ({
  status: 401,
  code: "UNAUTHENTICATED",
  message: `Unauthenticated: ${reason}`,
});
