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

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    base: { service: "catalog" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
