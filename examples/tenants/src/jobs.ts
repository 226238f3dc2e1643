/**
 * The example's jobs, Hangfire style: classes whose methods are jobs. The API only names them when it
 * enqueues (`client.enqueue(TenantService, 'provisionTenant', [tenantId])`); the worker creates an
 * instance per attempt through its `activate` option, handing it the application's dependencies.
 */
import type { JobContext } from 'pilotlight';
import type { AppDb } from './app-db.ts';

/** What the jobs need; the worker builds it once. */
export interface JobDependencies {
  readonly db: AppDb;
  /** Base URL of the storage/mail service (a local stub in the demo). */
  readonly stubUrl: string;
}

abstract class Service {
  protected readonly db: AppDb;
  protected readonly stubUrl: string;

  constructor(deps: JobDependencies) {
    this.db = deps.db;
    this.stubUrl = deps.stubUrl;
  }

  /** A JSON POST to the stub service (traced by the fetch instrumentation); throws on a non-2xx answer. */
  protected async post<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const response = await fetch(new URL(path, this.stubUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

export class TenantService extends Service {
  /**
   * Provisions a tenant in three steps: its row, its storage (an HTTP call to the storage service),
   * its default settings. Safe to run again (delivery is at-least-once, and a failed attempt is
   * retried): every write is an upsert.
   */
  async provisionTenant(tenantId: string, context: JobContext): Promise<{ bucket: string }> {
    const now = new Date().toISOString();
    this.db.run(
      'insert',
      'tenants',
      `INSERT INTO tenants (id, status, created_at) VALUES (?, 'provisioning', ?) ON CONFLICT (id) DO NOTHING`,
      tenantId,
      now,
    );
    await context.reportProgress(25, 'tenant registered');

    // The storage service is not always ready for a new tenant at once: the first attempt for a
    // tenant whose id ends in '-flaky' gets a 503 from the stub, the job throws and is retried.
    context.signal.throwIfAborted();
    const storage = await this.post<{ bucket: string }>(
      `/storage/${encodeURIComponent(tenantId)}`,
      { region: 'eu-west' },
      context.signal,
    ).catch((error: Error) => {
      throw new Error(`storage for ${tenantId} is not ready yet (${error.message})`);
    });
    await context.reportProgress(60, `storage ${storage.bucket} created`);

    this.db.run(
      'insert',
      'tenant_settings',
      `INSERT INTO tenant_settings (tenant_id, key, value) VALUES (?, 'plan', 'trial'), (?, 'locale', 'en'), (?, 'seats', '5')
       ON CONFLICT (tenant_id, key) DO NOTHING`,
      tenantId,
      tenantId,
      tenantId,
    );
    this.db.run(
      'update',
      'tenants',
      `UPDATE tenants SET status = 'active', bucket = ?, activated_at = ? WHERE id = ?`,
      storage.bucket,
      new Date().toISOString(),
      tenantId,
    );
    await context.reportProgress(100, 'tenant active');
    return storage;
  }
}

export class WelcomeService extends Service {
  /** The continuation of `provisionTenant`: runs once the tenant is active. */
  async sendWelcome(tenantId: string, context: JobContext): Promise<void> {
    const [tenant] = this.db.all<{ id: string; status: string }>('tenants', 'SELECT id, status FROM tenants WHERE id = ?', tenantId);
    if (tenant?.status !== 'active') throw new Error(`tenant ${tenantId} is not active (${tenant?.status ?? 'unknown'})`);
    await this.post('/mail', { to: `admin@${tenantId}.example`, template: 'welcome' }, context.signal);
    this.db.run(
      'insert',
      'audit_log',
      `INSERT INTO audit_log (tenant_id, event, at) VALUES (?, 'welcome-sent', ?)`,
      tenantId,
      new Date().toISOString(),
    );
  }
}

export class CleanupService extends Service {
  /** The recurring job: removes expired sessions. */
  async purgeExpiredSessions(_context: JobContext): Promise<number> {
    return this.db.run('delete', 'sessions', 'DELETE FROM sessions WHERE expires_at < ?', new Date().toISOString());
  }
}
