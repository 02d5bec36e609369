/**
 * The wire contract: every shape the API sends the dashboard (and the bodies the dashboard sends), in one place.
 * Server functions declare these as their return types, so the compiler checks the server against the contract;
 * the UI imports its wire types from here and never from server modules. Types only: nothing here runs, and
 * nothing here imports server code (only the zod schemas' types and pure stats/ types). The one exception is
 * limits.ts, the schema's numeric bounds as plain data for the dashboard's form checks, imported on its own.
 */
export type * from './experiments.ts'
export type * from './decisioning.ts'
export type * from './admin.ts'
export type * from './comparisons.ts'
export type * from './health.ts'
export type * from './recommendation.ts'
export type * from './report.ts'
export type * from './heterogeneity.ts'
export type * from './timeseries.ts'
export type * from './kpis.ts'
export type * from './library.ts'
export type * from './metrics.ts'
export type * from './errors.ts'
export type * from './notifications.ts'
export type * from './segments.ts'
