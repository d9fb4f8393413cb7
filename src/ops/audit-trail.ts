/**
 * How the gateway writes to its audit log: a failing log (closed, a write
 * that failed, a corrupt file refused at open) must neither fail the request
 * nor go unnoticed: the first failure is logged at error level, then one
 * line in every 1,000 failures.
 */
import type { Logger } from 'pino';
import { kMaxNameChars as kMaxName, type AuditEvent } from '../audit/audit-chain.js';
import type { AuditLog } from '../audit/audit-log.js';

export type AuditRecorder = (event: AuditEvent) => void;


export function auditRecorder(audit: AuditLog | undefined, log: Logger): AuditRecorder {
  if (audit === undefined) return () => {};
  let failures = 0;
  return (event) => {
    try {
      // Names come from requests (a token's sub, a URL): cut to what an entry holds rather than lose the entry.
      if (event.actor !== undefined && event.actor.length > kMaxName) event = { ...event, actor: `${event.actor.slice(0, kMaxName - 1)}…` };
      if (event.subject !== undefined && event.subject.length > kMaxName) event = { ...event, subject: `${event.subject.slice(0, kMaxName - 1)}…` };
      audit.append(event);
    } catch (error) {
      if (failures++ % 1000 === 0) log.error({ err: error, type: event.type, failures }, 'audit log refused an entry');
    }
  };
}
