/** The audit log's failures, in the one error family (match on `code`). */
import { TroupeError } from '../errors.js';
import type { AuditBadEntry } from './audit-chain.js';

/** An existing log fails verification at open: nothing is appended to a trail that was tampered with. */
export class AuditLogCorruptError extends TroupeError {
  readonly firstBad: AuditBadEntry;
  constructor(where: string, firstBad: AuditBadEntry) {
    super('TROUPE_ERR_AUDIT_CORRUPT', `audit log ${where} fails verification at entry position ${firstBad.index}: ${firstBad.reason}; nothing is appended to it (move it aside for the auditors and start a new one)`);
    this.firstBad = firstBad;
  }
}

/** The log is closed, or failed to write: it refuses entries rather than pretend to keep them. */
export class AuditLogClosedError extends TroupeError {
  constructor(where: string, reason: string, options?: { cause?: unknown }) {
    super('TROUPE_ERR_AUDIT_CLOSED', `audit log ${where} takes no more entries: ${reason}`, options);
  }
}

/** Another live process writes this log file (its pid is in `<path>.lock`): two writers would fork the chain. */
export class AuditLogLockedError extends TroupeError {
  constructor(path: string, holder: number | undefined) {
    super('TROUPE_ERR_AUDIT_LOCKED', `audit log ${path} is being written by ${holder === undefined ? 'another process' : `process ${holder}`} (${path}.lock); one writer per log`);
  }
}
