/** A real pino logger whose lines are kept in memory, so tests can assert what was (not) logged. */
import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "../../src/logging/logger";

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly err?: { readonly stack?: string };
  readonly [field: string]: unknown;
}

/** pino's number for the error level. */
const ERROR_LEVEL = 50;

/** The lines that would say "our fault": at error level or above, or carrying a stack. */
export function errorLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.level >= ERROR_LEVEL || line.err?.stack !== undefined);
}

export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}
