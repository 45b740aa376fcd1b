/** The checked-in contract files must match the code; regenerate with `npm run schema && npm run codegen`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generate, loadCodegenConfig } from "@graphql-codegen/cli";
import { contractFiles } from "../../../scripts/contract-files";
import { printGraphQLSchema } from "../../../src/graphql/print-schema";
import { buildGraphQLSchema } from "../../../src/graphql/schema";

const root = join(__dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");

describe("generated files", () => {
  it("schema/schema.graphql is what the code emits (run `npm run schema`)", async () => {
    expect(read("schema/schema.graphql")).toBe(printGraphQLSchema(await buildGraphQLSchema()));
  });

  it.each(["schema/asyncapi.yaml", "schema/todo-event.schema.json"])(
    "%s is what the code emits (run `npm run schema`)",
    async (path) => {
      const file = (await contractFiles()).find((candidate) => candidate.path === path);
      expect(file).toBeDefined();
      expect(read(path)).toBe(file!.content);
    },
  );

  it("test/generated/graphql.ts and the example client's generated operations are what codegen produces (run `npm run codegen`)", async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const { config } = await loadCodegenConfig({ configFilePath: "codegen.yml" });
      const outputs = (await generate({ ...config, silent: true }, false)) as { filename: string; content: string }[];
      // codegen generates its outputs concurrently, and their order in the result varies between runs.
      expect(outputs.map((output) => output.filename).sort()).toEqual([
        "examples/typescript-client/src/generated/graphql.ts",
        "test/generated/graphql.ts",
      ]);
      for (const output of outputs)
        expect({ file: output.filename, content: read(output.filename) }).toEqual({
          file: output.filename,
          content: output.content,
        });
    } finally {
      process.chdir(cwd);
    }
  });
});
