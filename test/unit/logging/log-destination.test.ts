import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogDestination } from "../../../src/logging/log-destination";

const LINE = `${JSON.stringify({ level: 30, msg: "a line of about sixty bytes, give or take" })}\n`;

describe("LogDestination", () => {
  const opened: number[] = [];
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "log-destination-"));
  });
  afterEach(() => {
    for (const fd of opened.splice(0)) closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  });
  const open = (path: string): number => {
    const fd = openSync(path, "w");
    opened.push(fd);
    return fd;
  };

  it("writes every line, in order, and drains", async () => {
    const file = join(directory, "log");
    const destination = new LogDestination({ fd: open(file) });

    for (let i = 0; i < 100; i++) destination.write(`${i}\n`);
    const drained = await destination.drain(5000);

    expect(drained).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(Array.from({ length: 100 }, (_, i) => `${i}\n`).join(""));
    expect(destination.droppedLines()).toEqual({ broken_pipe: 0, write_error: 0, buffer_full: 0 });
  });

  it("drops and counts the lines a failing destination cannot take, without throwing", async () => {
    // /dev/full answers every write with ENOSPC, as a redirected log file on a full disk does.
    const destination = new LogDestination({ fd: open("/dev/full"), retryPauseMs: 60_000 });

    destination.write(LINE);
    destination.write(LINE);
    const drained = await destination.drain(5000);
    destination.write(LINE);

    expect(drained).toBe(true);
    expect(destination.droppedLines().write_error).toBe(3);
    expect(destination.pendingLineCount).toBe(0);
  });

  it("tries again after the pause that follows a write error", async () => {
    let now = 0;
    const destination = new LogDestination({ fd: open("/dev/full"), retryPauseMs: 1000, now: () => now });
    destination.write(LINE);
    await destination.drain(5000);

    now = 999;
    destination.write(LINE);
    now = 1000;
    destination.write(LINE);
    await destination.drain(5000);

    // The one written during the pause is dropped unseen; the one after it reaches /dev/full and fails there.
    expect(destination.droppedLines().write_error).toBe(3);
  });

  it("drops lines beyond its buffer while earlier ones are still being written", async () => {
    const file = join(directory, "log");
    const destination = new LogDestination({ fd: open(file), maxBufferedBytes: LINE.length * 2 });

    // All in one turn of the event loop: the first write is still in flight for the later ones.
    for (let i = 0; i < 5; i++) destination.write(LINE);
    await destination.drain(5000);

    expect(destination.droppedLines().buffer_full).toBe(3);
    expect(readFileSync(file, "utf8")).toBe(LINE.repeat(2));
  });
});
