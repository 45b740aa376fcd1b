import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CATALOGUE } from "../../../src/error-codes";

/** The codes in the first column of the README's error table. */
function readmeErrorCodes(): string[] {
  const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
  const start = readme.indexOf("Errors carry `extensions.code`:");
  if (start === -1) throw new Error("the README has no error table");
  const rows = readme.slice(start).split("\n").slice(1);
  const table = rows.slice(rows.findIndex((row) => row.startsWith("|")));
  const body = table
    .slice(
      0,
      table.findIndex((row) => !row.startsWith("|")),
    )
    .slice(2);
  return body.map((row) => /^\|\s*`([A-Z_]+)`/.exec(row)?.[1] ?? `unreadable row: ${row}`);
}

describe("the README's error table", () => {
  it("lists exactly the codes of the error catalogue", () => {
    expect(readmeErrorCodes().sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });
});
