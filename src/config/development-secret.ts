/**
 * The well-known HS256 secret used only when no JWT setting is given outside
 * production. It is public by design (it is in the repository), so tokens
 * signed with it prove nothing; start-up logs a loud warning when it is used.
 */
export const DEVELOPMENT_JWT_SECRET = "todo-graphql-dapr-development-secret-do-not-use-in-production";
