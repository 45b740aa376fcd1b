/** One bounded GET of a JSON document from an identity provider: a deadline for the whole exchange and a size cap. */

export interface FetchedJson {
  readonly body: unknown;
  readonly headers: Headers;
}

export interface FetchJsonOptions {
  /** From sending the request to the last byte of the body. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** A failed fetch, with a short reason fit for logs and /readyz (no URL, no body). */
export class FetchFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "FetchFailure";
  }
}

export async function fetchJson(url: string, options: FetchJsonOptions): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetch(url, { signal, headers: { accept: "application/json" } });
    if (!response.ok) {
      await response.body?.cancel();
      throw new FetchFailure(`answered HTTP ${response.status}`);
    }
    const text = await readCapped(response, options.maxBytes);
    try {
      return { body: JSON.parse(text) as unknown, headers: response.headers };
    } catch {
      throw new FetchFailure("answered with something that is not JSON");
    }
  } catch (error) {
    if (error instanceof FetchFailure) throw error;
    if (signal.aborted) throw new FetchFailure(`timed out after ${options.timeoutMs} ms`);
    throw new FetchFailure(`unreachable (${networkCode(error)})`);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new FetchFailure(`answered more than ${maxBytes} bytes`);
  }
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new FetchFailure(`answered more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Node's fetch wraps socket errors as `TypeError("fetch failed")` with the system error as its cause
 * (ECONNREFUSED, ENOTFOUND, …), or with its own reason (e.g. "bad port" for ports fetch never uses).
 */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string" && cause.message !== "") return cause.message;
  return error instanceof Error ? error.message : "error";
}
