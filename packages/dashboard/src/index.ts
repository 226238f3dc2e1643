/**
 * `@pilotlight/dashboard`: Pilotlight's dashboard, mounted in an application (`createDashboard`)
 * or run on its own (`npx pilotlight dashboard`).
 */
export {};
