/**
 * The import rules of DESIGN.md §9 and STYLE.md, checked in CI:
 * http → graphql → todos/events → db; nothing below imports from above.
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
      from: { path: "^src/(todos|events|db|auth|config|logging)/" },
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
