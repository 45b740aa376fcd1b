import pino from "pino";
import type { Logger } from "../../src/logging/logger";

/** Tests log nothing unless TEST_LOG_LEVEL asks for it while debugging a failure. */
export const silentLogger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
