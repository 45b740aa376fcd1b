import type { AuthChecker } from "type-graphql";
import type { AuthenticatedUser } from "./access-token";

/** `@Authorized()` fields need a verified user; there are no roles yet. */
export const requireAuthenticatedUser: AuthChecker<{ readonly user: AuthenticatedUser | null }> = ({ context }) =>
  context.user !== null;
