/**
 * The API's heap after each major collection, from the lines `node --trace-gc` writes to its log.
 * Heap used saw-tooths between major collections, so a reading at a random moment says more about
 * when the last collection ran than about what stays alive; the heap right after a mark-compact
 * is what stays alive (plus a little floating garbage), and it is what a leak makes grow.
 */
import { readFileSync } from "node:fs";

export interface MajorGc {
  /** Seconds since the steady phase started. */
  readonly tSec: number;
  /** Heap used before and after the collection, in MB (V8's MB: 2^20 bytes). */
  readonly beforeMb: number;
  readonly afterMb: number;
}

/** e.g. `[1234:0x5f1e0]   70312 ms: Mark-Compact 171.8 (203.7) -> 60.1 (190.4) MB, 12.3 / 0.0 ms ...` */
const MARK_COMPACT =
  /^\[(\d+):0x[0-9a-f]+\]\s+([\d.]+) ms: Mark-Compact(?: \(reduce\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \(/;

/**
 * Milliseconds since `pid` started, from /proc: the clock of its --trace-gc lines, which count from
 * the start of the V8 isolate (a few tens of ms after the process starts; negligible here).
 */
export function processAgeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) in parentheses; starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]);
  const uptimeSec = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  // USER_HZ is 100 on Linux.
  return Math.round((uptimeSec - startTicks / 100) * 1000);
}

/** Major collections of process `pid` logged in `logFile`, timed from `zeroMs` (its age when the steady phase started). */
export function majorGcs(logFile: string, pid: number, zeroMs: number): MajorGc[] {
  const collections: MajorGc[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const match = MARK_COMPACT.exec(line);
    if (match === null || Number(match[1]) !== pid) continue;
    collections.push({
      tSec: Math.round(Number(match[2]) - zeroMs) / 1000,
      beforeMb: Number(match[3]),
      afterMb: Number(match[4]),
    });
  }
  return collections;
}
