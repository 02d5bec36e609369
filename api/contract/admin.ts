/** Keys, settings and the audit log on the wire: the types of the zod schemas in auth/, settings/ and audit/schema.ts. */
export type { ApiKey, CreatedApiKey, Role } from '../auth/schema.ts'
export type { Settings } from '../settings/schema.ts'
export type { AuditLogEntry as AuditEntry } from '../audit/schema.ts'
