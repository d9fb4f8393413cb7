/** `troupe/audit`: the tamper-evident audit log. Re-exports only. */
export { AuditLog, createAuditLog, verifyAuditLog } from './audit-log.js';
export type { AuditLogOptions, AuditLogSource } from './audit-log.js';
export type { AuditBadEntry, AuditEntry, AuditEvent, AuditVerifyResult } from './audit-chain.js';
export type { AuditKey, CheckpointAlgorithm } from './audit-keys.js';
export type { AuditValue } from './canonical.js';
export { AuditLogClosedError, AuditLogCorruptError, AuditLogLockedError } from './errors.js';
