/**
 * Where JSON log lines go: a file descriptor (stdout) written asynchronously by
 * sonic-boom, pino's own writer. A reader that is slow, stuck or gone costs log
 * lines, never service: lines are dropped and counted, the event loop never
 * waits for the reader and nothing retries a failed write forever.
 *
 * Not `pino.destination()`: it registers an exit hook that calls sonic-boom's
 * `flushSync`, which (in the 4.x that pino 10 uses) sleeps and retries every
 * failed write, EPIPE included, on the main thread for as long as the error
 * lasts. A broken pipe then hangs the process in `process.exit`, deaf to
 * SIGTERM. This destination offers no `flushSync` (so `logger.fatal` cannot
 * block either) and is drained with a time limit instead.
 */
import SonicBoom from "sonic-boom";

/** Why a line was not written. */
export const LOG_DROP_REASONS = ["broken_pipe", "write_error", "buffer_full"] as const;
export type LogDropReason = (typeof LOG_DROP_REASONS)[number];

/** Lines waiting for a slow reader are held up to this many bytes; later lines are dropped until it catches up. */
export const MAX_BUFFERED_LOG_BYTES = 4 * 1024 * 1024;
/** After a write error other than a broken pipe (a full disk under a redirected file), writing resumes this much later. */
export const LOG_WRITE_RETRY_PAUSE_MS = 1000;

export interface LogDestinationOptions {
  readonly fd: number;
  readonly maxBufferedBytes?: number;
  readonly retryPauseMs?: number;
  readonly now?: () => number;
}

export class LogDestination {
  private readonly fd: number;
  private readonly maxBufferedBytes: number;
  private readonly retryPauseMs: number;
  private readonly now: () => number;
  private writer: SonicBoom | undefined;
  /** While set, lines are dropped for this reason; a broken pipe never heals, so it stays. */
  private failure: { readonly reason: LogDropReason; readonly until: number } | undefined;
  /** Unwritten bytes of each accepted line, oldest first (from `head`): what an error loses. */
  private pendingLines: number[] = [];
  private head = 0;
  private pendingBytes = 0;
  private readonly drops: Record<LogDropReason, number> = { broken_pipe: 0, write_error: 0, buffer_full: 0 };
  private readonly drainWaiters = new Set<() => void>();

  constructor(options: LogDestinationOptions) {
    this.fd = options.fd;
    this.maxBufferedBytes = options.maxBufferedBytes ?? MAX_BUFFERED_LOG_BYTES;
    this.retryPauseMs = options.retryPauseMs ?? LOG_WRITE_RETRY_PAUSE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Called by pino with one serialised line; never throws and never blocks. */
  write(line: string): boolean {
    if (this.failure !== undefined) {
      if (this.failure.reason === "broken_pipe" || this.now() < this.failure.until) {
        this.drops[this.failure.reason] += 1;
        return true;
      }
      this.failure = undefined;
    }
    const bytes = Buffer.byteLength(line);
    if (this.pendingBytes + bytes > this.maxBufferedBytes) {
      this.drops.buffer_full += 1;
      return true;
    }
    this.pendingLines.push(bytes);
    this.pendingBytes += bytes;
    (this.writer ??= this.openWriter()).write(line);
    return true;
  }

  /** Lines dropped so far, by reason (monotonic: read as counters). */
  droppedLines(): Readonly<Record<LogDropReason, number>> {
    return { ...this.drops };
  }

  /** Lines accepted but not yet written. */
  get pendingLineCount(): number {
    return this.pendingLines.length - this.head;
  }

  /**
   * Resolves once every accepted line is written or lost to an error, or after
   * `timeoutMs`, whichever comes first; true when nothing is left unwritten.
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.pendingBytes === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve(this.pendingBytes === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      this.drainWaiters.add(done);
    });
  }

  private openWriter(): SonicBoom {
    // Asynchronous writes: a full pipe is waited for off the main thread (EAGAIN is retried
    // on a timer by sonic-boom), and MAX_BUFFERED_LOG_BYTES bounds what piles up meanwhile.
    const writer = new SonicBoom({ fd: this.fd, sync: false });
    writer.on("write", (bytes: number) => this.written(bytes));
    writer.on("error", (error: NodeJS.ErrnoException) => this.failed(writer, error));
    return writer;
  }

  private written(bytes: number): void {
    let left = bytes;
    while (left > 0 && this.head < this.pendingLines.length) {
      const line = this.pendingLines[this.head];
      if (line > left) {
        this.pendingLines[this.head] = line - left;
        break;
      }
      left -= line;
      this.head += 1;
    }
    this.pendingBytes = Math.max(0, this.pendingBytes - bytes);
    this.compact();
    if (this.pendingBytes === 0) this.settleDrains();
  }

  private failed(writer: SonicBoom, error: NodeJS.ErrnoException): void {
    if (writer !== this.writer) return;
    // The writer keeps what it could not write and would retry it on the next line:
    // drop it with everything queued behind it, and start a fresh writer later.
    this.writer = undefined;
    const reason: LogDropReason = error.code === "EPIPE" ? "broken_pipe" : "write_error";
    this.drops[reason] += this.pendingLineCount;
    this.pendingLines = [];
    this.head = 0;
    this.pendingBytes = 0;
    this.failure = { reason, until: this.now() + this.retryPauseMs };
    this.settleDrains();
  }

  private compact(): void {
    if (this.head === this.pendingLines.length) {
      this.pendingLines = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pendingLines.length) {
      this.pendingLines = this.pendingLines.slice(this.head);
      this.head = 0;
    }
  }

  private settleDrains(): void {
    for (const settle of [...this.drainWaiters]) settle();
  }
}
