/** `npm run schema`: writes the contract files of schema/ from the code (a test fails when one is stale). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { contractFiles, REPO_ROOT } from "./contract-files";

async function main(): Promise<void> {
  for (const file of await contractFiles()) {
    const target = join(REPO_ROOT, file.path);
    writeFileSync(target, file.content);
    process.stdout.write(`wrote ${target}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
