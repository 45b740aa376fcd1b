import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reuses a sane client `x-request-id` (to correlate across hops), else mints one; echoes it back. */
export const assignRequestId: RequestHandler = (req, res, next) => {
  const offered = req.get("x-request-id");
  const requestId = offered !== undefined && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
  res.locals.requestId = requestId;
  res.setHeader("x-request-id", requestId);
  next();
};

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** A W3C traceparent passed on to Dapr when well-formed; malformed ones are ignored, not fatal. */
export function traceparentFrom(header: string | undefined): string | undefined {
  return header !== undefined && TRACEPARENT.test(header) ? header : undefined;
}
