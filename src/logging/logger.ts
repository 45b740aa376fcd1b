/**
 * Structured JSON logs (pino). Redaction is a second line of defence: code
 * never passes tokens or secrets to the logger in the first place.
 */
import pino, { type Logger } from "pino";
import type { Config } from "../config/config";

export type { Logger };

export function createLogger(config: Pick<Config, "logLevel" | "logFormat">): Logger {
  return pino({
    level: config.logLevel,
    // Pretty output runs in a worker thread (pino-pretty, a development dependency).
    ...(config.logFormat === "pretty"
      ? {
          transport: {
            target: "pino-pretty",
            options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" },
          },
        }
      : {}),
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
