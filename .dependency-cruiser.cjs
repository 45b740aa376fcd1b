/**
 * The import rules, checked in CI (docs/architecture.md draws them):
 * http → graphql → todos/events → db/shared; nothing below imports from above;
 * the event flows (dapr/, log/, delivery/, trigger/) meet only at the event
 * contract and the publisher port; todos reach events only through their ports.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const layer = (name) => `^src/${name}/`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Cycles hide which module owns what.",
      from: {},
      to: { circular: true },
    },
    {
      name: "services-do-not-know-transport",
      severity: "error",
      comment: "Services, repositories and adapters never import GraphQL or HTTP code.",
      from: { path: "^src/(todos|events|db|auth|config|logging|metrics|shared)/" },
      to: { path: "^src/(graphql|http)/" },
    },
    {
      name: "graphql-does-not-import-http",
      severity: "error",
      from: { path: layer("graphql") },
      to: { path: layer("http") },
    },
    {
      name: "db-is-the-bottom",
      severity: "error",
      comment: "The database layer knows nothing of todos, events or auth.",
      from: { path: layer("db") },
      to: { path: "^src/(todos|events|auth|graphql|http)/" },
    },
    {
      name: "config-is-a-leaf",
      severity: "error",
      from: { path: layer("config") },
      to: { path: "^src/(?!config/)" },
    },
    {
      name: "only-the-composition-root-wires-everything",
      severity: "error",
      comment: "src/application.ts and src/main.ts compose; nothing imports them.",
      from: { path: "^src/(?!main\\.ts)" },
      to: { path: "^src/(application|main)\\.ts$" },
    },
    {
      name: "only-the-composition-root-knows-dapr-adapters",
      severity: "error",
      comment:
        "src/application.ts picks the Dapr publisher and probe; every other module sees the EventPublisher port.",
      from: { path: "^src/", pathNot: "^src/(application\\.ts$|events/dapr/)" },
      to: { path: "^src/events/dapr/" },
    },
    {
      name: "only-events-dapr-imports-the-dapr-sdk",
      severity: "error",
      comment: "The SDK stays behind the adapter, so replacing the sidecar's client touches one folder.",
      from: { path: "^src/", pathNot: "^src/events/dapr/" },
      to: { path: "node_modules/@dapr/dapr" },
    },
    {
      name: "event-flows-stay-apart",
      severity: "error",
      comment:
        "events/dapr and events/log import no other flow; trigger and delivery build on the log (a trigger appends to " +
        "it, a resumed subscription replays it) but not on each other or on the Dapr adapter.",
      from: { path: "^src/events/(dapr|log|delivery|trigger)/" },
      to: {
        path: "^src/events/(dapr|log|delivery|trigger)/",
        pathNot: ["^src/events/$1/", "^src/events/log/"],
      },
    },
    {
      name: "the-log-and-the-adapter-know-no-other-flow",
      severity: "error",
      from: { path: "^src/events/(dapr|log)/" },
      to: { path: "^src/events/(dapr|log|delivery|trigger)/", pathNot: "^src/events/$1/" },
    },
    {
      name: "events-never-import-todos",
      severity: "error",
      comment: "A trigger asks the TaskOwnership port, which the composition root hands in; the tie runs one way.",
      from: { path: "^src/events/" },
      to: { path: "^src/todos/" },
    },
    {
      name: "todos-reach-events-only-through-their-ports",
      severity: "error",
      comment: "Todos append through the EventLog port and build payloads with the contract; nothing else of events.",
      from: { path: "^src/todos/" },
      to: { path: "^src/events/", pathNot: "^src/events/(todo-event\\.ts|log/event-log\\.ts)$" },
    },
    {
      name: "shared-rules-are-a-leaf",
      severity: "error",
      comment: "src/shared holds rules every feature uses; it may only use the domain error types.",
      from: { path: "^src/shared/" },
      to: { path: "^src/", pathNot: "^src/(shared/|app-error\\.ts$|error-codes\\.ts$)" },
    },
    {
      name: "src-does-not-import-tests-or-scripts",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|scripts|bench)/" },
    },
    {
      name: "no-dev-dependencies-in-src",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
