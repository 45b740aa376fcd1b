/**
 * Refuses a request whose declared Content-Length is over the limit before a
 * byte of its body is read. Express's JSON parser would read and discard the
 * whole upload before answering 413; closing the connection spares that too.
 */
import type { RequestHandler } from "express";
import { ErrorCode, errorBody } from "../error-codes";

export function refuseDeclaredBodiesOver(limitBytes: number, what: string): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.get("content-length") ?? 0);
    if (!(declared > limitBytes)) {
      next();
      return;
    }
    res.set("connection", "close");
    res.status(413).json(payloadTooLargeBody(limitBytes, what));
  };
}

/** The answer for a body over its limit, declared or found while streaming it. */
export function payloadTooLargeBody(limitBytes: number, what: string): ReturnType<typeof errorBody> {
  return errorBody(`${what} exceeds the limit of ${limitBytes} bytes`, ErrorCode.PAYLOAD_TOO_LARGE);
}
