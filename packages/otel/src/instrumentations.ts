/**
 * The instrumentations Pilotlight's service defaults enable, chosen for a job-processing web service:
 *
 * - http: incoming requests (SERVER spans, the parents of `enqueue` spans) and outgoing http/https.
 * - express: the route (`http.route`, span name `GET /api/tenants/:id`) and route handlers; the
 *   per-request middleware layers (query, expressInit, json parser...) are left out: they add one
 *   span per middleware per request and say little.
 * - pg: PostgreSQL queries, only inside an existing span (`requireParentSpan`), so a worker's idle
 *   polling never starts a trace of its own while a job's queries nest under its `process` span.
 *   Query parameters are not recorded (the default).
 * - undici: outgoing `fetch()` (Node's global fetch is undici; it is traced through
 *   diagnostics_channel and needs no loader hook).
 */
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

/** Modules the ESM loader hook (import-in-the-middle) intercepts; everything else loads untouched. */
export const HOOKED_MODULES: readonly string[] = ['http', 'https', 'express', 'pg', 'pg-pool'];

export function createInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation(),
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    new PgInstrumentation({ requireParentSpan: true }),
    new UndiciInstrumentation(),
  ];
}
