/**
 * `@pilotlight/dashboard`: Pilotlight's dashboard, mounted in an application (`createDashboard`)
 * or run on its own (`npx pilotlight dashboard`).
 */
export { createDashboard } from './http/dashboard.ts';
export type { DashboardHandler } from './http/dashboard.ts';
export type { DashboardAccess, DashboardOptions } from './config/options.ts';
