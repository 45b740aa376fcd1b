import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default function stopPostgres(): void {
  const dir = process.env.TEST_POSTGRES_DIR;
  if (dir === undefined) return;
  execFileSync("bash", [join(__dirname, "..", "..", "scripts", "postgres", "pg-temp.sh"), "stop", dir], {
    stdio: "inherit",
  });
  delete process.env.TEST_POSTGRES_DIR;
}
