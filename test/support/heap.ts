/** The heap after a full garbage collection, inside a jest worker and without --expose-gc on the command line. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
// A new context sees the flag; this one was created before it was set.
const collectGarbage = runInNewContext("gc") as () => void;

export function heapUsedAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export const MiB = 1024 * 1024;
