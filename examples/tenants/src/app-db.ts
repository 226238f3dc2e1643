/**
 * The application's own database (not Pilotlight's store): a SQLite file through `node:sqlite`.
 *
 * `node:sqlite` has no OpenTelemetry instrumentation, so every statement is wrapped in a CLIENT span
 * by hand, named `db.{operation} {table}` with the database semantic-convention attributes. Those
 * spans nest under whatever is active: a job's `process …` span, a task's `BackgroundTask.…` span.
 */
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('pilotlight-example-tenants');

type Operation = 'insert' | 'update' | 'delete' | 'select';

export class AppDb {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS tenants (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, bucket TEXT, created_at TEXT NOT NULL, activated_at TEXT);
      CREATE TABLE IF NOT EXISTS tenant_settings (
        tenant_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (tenant_id, key));
      CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, expires_at TEXT NOT NULL);
    `);
  }

  /** Runs a write statement (INSERT, UPDATE, DELETE) in a span; resolves to the rows changed. */
  run(operation: Exclude<Operation, 'select'>, table: string, sql: string, ...params: SQLInputValue[]): number {
    return this.#traced(operation, table, sql, () => Number(this.#db.prepare(sql).run(...params).changes));
  }

  /** Runs a query in a span. */
  all<Row>(table: string, sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#traced('select', table, sql, () => this.#db.prepare(sql).all(...params) as Row[]);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #traced<T>(operation: Operation, table: string, sql: string, run: () => T): T {
    return tracer.startActiveSpan(
      `db.${operation} ${table}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'sqlite',
          'db.namespace': 'app',
          'db.operation.name': operation.toUpperCase(),
          'db.collection.name': table,
          'db.query.text': sql.replace(/\s+/g, ' ').trim(), // parameterised: values are never recorded
        },
      },
      (span) => {
        try {
          const result = run();
          if (Array.isArray(result)) span.setAttribute('db.response.returned_rows', result.length);
          return result;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          span.setAttribute('error.type', (error as Error).name);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }
}
