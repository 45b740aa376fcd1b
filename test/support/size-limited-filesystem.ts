/**
 * A small tmpfs mounted for one test (root only), to run out of space on purpose. Mounting
 * needs root: without it the test fails with the reason, it never skips.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SizeLimitedFilesystem {
  readonly path: string;
  /** Writes a filler file until the filesystem answers ENOSPC; returns the bytes it took. */
  fill(): number;
  /** Removes the filler (if there is one): the space is back. */
  free(): void;
  freeBytes(): number;
  /** Unmounts and removes the mount point; safe to call twice. */
  unmount(): void;
}

export function mountSizeLimitedFilesystem(prefix: string, sizeBytes: number): SizeLimitedFilesystem {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  try {
    // mode=0755 so that a server running as another user (PostgreSQL's) can traverse it.
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", path], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (error) {
    rmdirSync(path);
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `cannot mount a ${sizeBytes}-byte tmpfs at ${path} (needs root; uid ${process.getuid?.()}): ${stderr ?? String(error)}`,
    );
  }
  const filler = join(path, "filler");
  let mounted = true;
  return {
    path,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(64 * 1024);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        closeSync(fd);
      }
      // A page-sized remainder can still be free after the last full chunk: take it too.
      const tail = openSync(filler, "a");
      try {
        for (;;) written += writeSync(tail, Buffer.alloc(512));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        closeSync(tail);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    freeBytes() {
      const stats = statfsSync(path);
      return stats.bavail * stats.bsize;
    },
    unmount() {
      if (!mounted) return;
      execFileSync("umount", [path], { stdio: ["ignore", "ignore", "inherit"] });
      mounted = false;
      rmdirSync(path);
    },
  };
}
