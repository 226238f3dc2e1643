/**
 * An in-process background task of the API: it belongs to this process only (no store, no retry),
 * with live progress that `GET /api/scans/:id` shows. Each run gets one `BackgroundTask.MetadataScanTask`
 * span, the child of the request that started it; its SQLite reads nest under that span.
 */
import type { TaskContext } from 'pilotlight';
import type { AppDb } from './app-db.ts';

export interface ScanInput {
  /** Only tenants whose id starts with this (all when absent). */
  readonly prefix?: string;
}

export interface ScanResult {
  readonly tenants: number;
  readonly active: number;
  readonly settings: number;
  readonly auditEvents: number;
}

export class MetadataScanTask {
  readonly #db: AppDb;

  constructor(db: AppDb) {
    this.#db = db;
  }

  async run(input: ScanInput, context: TaskContext): Promise<ScanResult> {
    const tenants = this.#db.all<{ id: string; status: string }>(
      'tenants',
      'SELECT id, status FROM tenants WHERE id LIKE ? ORDER BY id',
      `${input.prefix ?? ''}%`,
    );
    context.reportProgress(10, `${tenants.length} tenants to scan`);
    let settings = 0;
    let auditEvents = 0;
    for (const [i, tenant] of tenants.entries()) {
      context.signal.throwIfAborted();
      settings += this.#db.all('tenant_settings', 'SELECT key, value FROM tenant_settings WHERE tenant_id = ?', tenant.id).length;
      auditEvents += this.#db.all('audit_log', 'SELECT event FROM audit_log WHERE tenant_id = ?', tenant.id).length;
      context.reportProgress(10 + (90 * (i + 1)) / tenants.length, `scanned ${tenant.id}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // a real scan would read files here
    }
    return { tenants: tenants.length, active: tenants.filter((t) => t.status === 'active').length, settings, auditEvents };
  }
}
