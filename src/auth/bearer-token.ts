import { AuthenticationFailure } from "./access-token";

/**
 * Extracts the token from an `Authorization` header. No header means an
 * anonymous request (protected fields then answer UNAUTHENTICATED); a header
 * that is present but not a well-formed bearer credential is an error.
 */
export function bearerTokenFrom(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  if (match === null) throw new AuthenticationFailure('authorization header must be "Bearer <token>"');
  return match[1];
}
