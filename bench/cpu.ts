/**
 * CPU time of a process from /proc/<pid>/stat: user + system time of all its threads, the figure
 * the benchmark divides by the requests served. Far steadier on shared cores than throughput,
 * which mostly shows how the cores were shared.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** The kernel's clock tick (USER_HZ), the unit of utime and stime; 100 on every common Linux. */
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}

/** User + system CPU µs the process has used so far; undefined once it is gone. */
export function cpuMicros(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

/** CPU µs each named process used between `start()` and `read()`. */
export class CpuMeter<Name extends string> {
  private readonly before = new Map<Name, number>();

  constructor(private readonly pids: Readonly<Partial<Record<Name, number>>>) {}

  start(): void {
    for (const [name, pid] of this.entries()) {
      const micros = cpuMicros(pid);
      if (micros !== undefined) this.before.set(name, micros);
    }
  }

  read(): Partial<Record<Name, number>> {
    const used: Partial<Record<Name, number>> = {};
    for (const [name, pid] of this.entries()) {
      const start = this.before.get(name);
      const now = cpuMicros(pid);
      if (start !== undefined && now !== undefined) used[name] = now - start;
    }
    return used;
  }

  private entries(): [Name, number][] {
    return Object.entries(this.pids).filter((entry): entry is [Name, number] => typeof entry[1] === "number");
  }
}
