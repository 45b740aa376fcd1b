/** Process entry point: configuration, start, and a bounded graceful shutdown. */
import { startApplication } from "./application";
import { ConfigError, loadConfig } from "./config/config";
import { createLogger, createStdoutLogDestination } from "./logging/logger";

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    exitOnConfigError(error);
  }
  const { config, warnings } = loaded;
  const logDestination = createStdoutLogDestination();
  const logger = createLogger(config, logDestination);
  for (const warning of warnings) logger.warn(warning);

  const startedAt = performance.now();
  // Start-up can still refuse the configuration: OIDC discovery reads the issuer's own document.
  const application = await startApplication(config, { logger, logDestination }).catch(exitOnConfigError);
  logger.info({ url: application.url, startupMs: Math.round(performance.now() - startedAt) }, "ready");
  if (config.graphql.sandbox) logger.info(`Apollo Sandbox: open ${application.url} in a browser`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const deadlineAt = performance.now() + config.shutdownTimeoutMs;
    // Logs are written asynchronously: the last lines get until the deadline to reach the
    // reader. A reader that is gone fails the write at once; one that is stuck is not waited for past it.
    const exit = (code: number): void => {
      void logDestination.drain(Math.max(0, deadlineAt - performance.now())).finally(() => process.exit(code));
    };
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: config.shutdownTimeoutMs }, "shutdown deadline exceeded; exiting");
      exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    application.close().then(
      () => {
        // Stopped in time: only the last log lines may still be on their way.
        clearTimeout(deadline);
        logger.info("stopped");
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** A configuration error stops the process with its message (naming the variable) and EX_CONFIG; others go on up. */
function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
