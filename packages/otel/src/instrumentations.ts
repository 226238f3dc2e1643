/**
 * The instrumentations Pilotlight's service defaults enable, chosen for a job-processing web service:
 *
 * - http: incoming requests (SERVER spans, the parents of `enqueue` spans) and outgoing http/https.
 *   Incoming OTLP exports (`POST …/v1/traces`, `/v1/metrics`, `/v1/logs`) are not traced: a process
 *   that hosts a receiver (Pilotlight's dashboard with `traces`) would otherwise trace every export
 *   it receives, export those spans, receive them, and so on. (Outgoing exports are never traced: the
 *   OTLP exporters suppress tracing around their own requests.)
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

/** The OTLP/HTTP paths of the three signals, under any base path (`/dashboard/v1/traces`), with or without a query. */
const OTLP_EXPORT_PATH = /\/v1\/(?:traces|metrics|logs)(?:\?|$)/;

/** Whether an incoming request is an OTLP export (a POST to an OTLP path), which is not traced. */
export function isOtlpExport(request: { method?: string; url?: string }): boolean {
  return request.method === 'POST' && OTLP_EXPORT_PATH.test(request.url ?? '');
}

export function createInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({ ignoreIncomingRequestHook: isOtlpExport }),
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    new PgInstrumentation({ requireParentSpan: true }),
    new UndiciInstrumentation(),
  ];
}
