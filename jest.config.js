/**
 * Test tiers: unit and integration run in `npm test`; the abuse tier, the
 * tiers with a real sidecar and broker, and the auth tier with a real identity
 * provider have their own scripts.
 * @type {import('jest').Config}
 */
const tsJest = [
  "ts-jest",
  {
    // Type-checking happens once in `npm run typecheck`; with `isolatedModules`
    // in tsconfig.json ts-jest transpiles file by file, which keeps tests fast.
    diagnostics: false,
  },
];

const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: "node",
  roots: [`<rootDir>/test/${name}`],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": tsJest },
  setupFiles: ["reflect-metadata"],
  ...extra,
});

module.exports = {
  projects: [
    project("unit"),
    // Real HTTP servers and real databases: SQLite and a throw-away PostgreSQL server.
    project("integration", {
      globalSetup: "<rootDir>/test/support/postgres-global-setup.ts",
      globalTeardown: "<rootDir>/test/support/postgres-global-teardown.ts",
    }),
    // Hostile documents, floods, production start-up and environment faults (closed stdout, full
    // disks on a tmpfs it mounts, so root): slower, so outside `npm test` (npm run test:abuse).
    project("abuse", { slowTestThreshold: 30 }),
    // Real daprd + real Kafka + the built API as a child process (`npm run test:e2e`, run in band).
    // Stack start-up has its own, longer timeout in the suites' beforeAll.
    project("e2e", { testTimeout: 120_000, slowTestThreshold: 60 }),
    // Crashes and restarts of the real stack under load (npm run test:faults).
    project("faults", { slowTestThreshold: 120 }),
    // Several API instances with their own sidecars on PostgreSQL (npm run test:scale).
    project("scale", { slowTestThreshold: 120 }),
    // Tokens and keys from a real Keycloak started by the suites, the API in process (npm run test:auth, in band).
    // jest reads testTimeout only from the global configuration: the setup file sets the tier's own.
    project("auth", { setupFilesAfterEnv: ["<rootDir>/test/auth/support/timeout.ts"] }),
  ],
};
