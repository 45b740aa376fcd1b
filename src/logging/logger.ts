/**
 * Structured JSON logs (pino). Redaction is a second line of defence: code
 * never passes tokens or secrets to the logger in the first place.
 */
import pino, { type Logger } from "pino";
import type { Config } from "../config/config";
import { LogDestination } from "./log-destination";

export type { Logger };

/** Standard output, written so that a slow or vanished reader never stalls the process. */
export function createStdoutLogDestination(): LogDestination {
  return new LogDestination({ fd: 1 });
}

/**
 * JSON lines go to `destination` (standard output unless given). The pretty
 * format is for development and has its own worker thread instead.
 */
export function createLogger(
  config: Pick<Config, "logLevel" | "logFormat">,
  destination: LogDestination = createStdoutLogDestination(),
): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
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
  };
  if (config.logFormat === "pretty") {
    // pino-pretty is a development dependency, loaded by the transport's worker only when asked for.
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" },
      },
    });
  }
  return pino(options, destination);
}
