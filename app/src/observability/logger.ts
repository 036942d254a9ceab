import { hostname } from "node:os";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import type { LogLevel } from "../config.js";

/** Paths that could carry a secret if a future log call included them; pino replaces their values. */
const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "*.password",
  "*.adminToken",
  "*.databaseUrl",
  "*.redisUrl",
  "adminToken",
  "databaseUrl",
  "redisUrl",
];

/**
 * Every line names the release and the host (the container's id, in Docker): during a switch two
 * containers of the app run side by side, and their lines must be told apart.
 */
export function loggerOptions(level: LogLevel, release: string): LoggerOptions {
  return {
    level,
    base: { service: "catalog", release, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
}

export function createLogger(level: LogLevel, release: string, destination?: DestinationStream): Logger {
  const options = loggerOptions(level, release);
  return destination ? pino(options, destination) : pino(options);
}
