/**
 * The last sequence the client has seen, kept in a small JSON file, so that a client started
 * again resumes where it stopped instead of from now.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class SequenceFile {
  constructor(readonly path: string) {}

  /** The saved sequence, or undefined when this client has never seen an event. */
  load(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const { lastSequence } = JSON.parse(text) as { lastSequence?: unknown };
    if (!Number.isSafeInteger(lastSequence) || (lastSequence as number) < 0) {
      throw new Error(`${this.path} holds no lastSequence: delete it to start from now`);
    }
    return lastSequence as number;
  }

  save(lastSequence: number): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // Written beside it and renamed over it: a crash mid-write leaves the previous value, never half a file.
    const partial = `${this.path}.partial`;
    writeFileSync(partial, `${JSON.stringify({ lastSequence })}\n`);
    renameSync(partial, this.path);
  }
}
