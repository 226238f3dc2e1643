/** Where Pilotlight reports what goes wrong outside a job (a throwing filter, a store error in a loop). */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** The default logger: warnings and errors to the console, prefixed so they can be found. */
export const consoleLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, details) => console.warn(`[pilotlight] ${message}`, ...(details ? [details] : [])),
  error: (message, details) => console.error(`[pilotlight] ${message}`, ...(details ? [details] : [])),
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
