/** OpenTelemetry's diagnostics (`diag`) of this process, captured for a test: every level, as text. */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

export interface DiagCapture {
  /** Each message so far, as `level: message`. */
  readonly lines: string[];
  /** Puts diag back as it was (disabled). */
  restore(): void;
}

export function captureDiag(): DiagCapture {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string, ...args: unknown[]): void => {
      lines.push([`${level}: ${message}`, ...args.map(String)].join(' '));
    };
  const logger: DiagLogger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    verbose: record('verbose'),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return { lines, restore: () => diag.disable() };
}
