/**
 * Structured JSON logs (pino). Redaction is a second line of defence: code
 * never passes tokens or secrets to the logger in the first place.
 */
import pino, { type Logger } from "pino";
import type { LogLevel } from "../config/config";

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "todo-graphql-dapr" },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "token",
        "*.token",
        "dapr-api-token",
        "*['dapr-api-token']",
      ],
      censor: "[redacted]",
    },
  });
}
