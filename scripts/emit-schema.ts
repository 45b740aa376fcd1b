/** `npm run schema`: writes schema/schema.graphql from the code (a test fails when it is stale). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { printGraphQLSchema } from "../src/graphql/print-schema";
import { buildGraphQLSchema } from "../src/graphql/schema";

async function main(): Promise<void> {
  const target = join(__dirname, "..", "schema", "schema.graphql");
  writeFileSync(target, printGraphQLSchema(await buildGraphQLSchema()));
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
