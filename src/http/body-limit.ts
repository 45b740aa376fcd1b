/**
 * Refuses a request whose declared Content-Length is over the limit before a byte of its body is
 * read, and closes the connection so the upload is not drained either. Fastify also compares the
 * declared length with a route's `bodyLimit`, but only once it starts parsing; this runs first, in
 * `onRequest`, so a stranger's upload costs nothing but its headers.
 */
import type { onRequestHookHandler } from "fastify";
import { ErrorCode, errorBody } from "../error-codes";

export function refuseDeclaredBodiesOver(limitBytes: number, what: string): onRequestHookHandler {
  return (request, reply, done) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (!(declared > limitBytes)) {
      done();
      return;
    }
    void reply.header("connection", "close").code(413).send(payloadTooLargeBody(limitBytes, what));
  };
}

/** The answer for a body over its limit, declared or found while streaming it. */
export function payloadTooLargeBody(limitBytes: number, what: string): ReturnType<typeof errorBody> {
  return errorBody(`${what} exceeds the limit of ${limitBytes} bytes`, ErrorCode.PAYLOAD_TOO_LARGE);
}
