/**
 * The routes every gateway serves besides the user's: the probes
 * (`/healthz`, `/readyz`), `/metrics`, token refresh, the admin API under
 * its prefix and, when asked for, the chaos route. Each asks the system
 * directly, not an actor, and needs its own permission.
 */
import type { HostName } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { kInternals, type ActorSystem } from '../system/actor-system.js';
import { mountAdminUi, resolveAdminUi, type AdminUiOptions } from './admin-ui.js';
import type { AuditRecorder } from './audit-trail.js';
import type { Auth, Permission } from './auth.js';
import { HttpError, truncate } from './errors.js';
import type { HealthMonitor, HealthReport } from './health.js';
import type { TroupeMetrics } from './metrics.js';
import type { GatewayRequest, Reply, RouteTable } from './route-table.js';

/** What the built-in routes answer from. */
export interface BuiltInParts {
  system: ActorSystem;
  health: HealthMonitor;
  metrics: TroupeMetrics | undefined;
  auth: Auth | false;
  adminPrefix: string;
  metricsPermission: Permission | false;
  /** Serve the chaos route (terminate a worker). */
  chaos: boolean;
  /** Writes the admin actions to the audit log. */
  record: AuditRecorder;
  /** The live view (`<admin>/ui`); `undefined` or `true`: on with its defaults. */
  ui: boolean | AdminUiOptions | undefined;
  /** Aborted when the gateway closes. */
  closed: AbortSignal;
}

export function mountBuiltIns(routes: RouteTable, parts: BuiltInParts): void {
  const { system, health, metrics, auth, adminPrefix: admin, metricsPermission, chaos, record } = parts;
  const recordAdmin = (type: string, request: GatewayRequest, subject: string, detail: Record<string, string | number>): void =>
    record({ type, ...(request.principal === undefined ? {} : { actor: request.principal.subject }), subject, detail: { ...detail, role: request.principal?.role, correlationId: request.correlationId } });
  /** Runs an admin action and records it, done or failed (an attempt that failed is evidence too). */
  const audited = async <T>(type: string, request: GatewayRequest, subject: string, action: () => Promise<T>, detail: (result: T) => Record<string, string | number>): Promise<T> => {
    let result: T;
    try {
      result = await action();
    } catch (error) {
      recordAdmin(type, request, subject, { outcome: 'failed', code: String((error as { code?: unknown } | null)?.code ?? 'error') });
      throw error;
    }
    recordAdmin(type, request, subject, { outcome: 'done', ...detail(result) });
    return result;
  };
  const probe = (report: HealthReport): Reply => ({ status: report.status === 'ok' ? 200 : 503, body: report });
  routes.add('GET', '/healthz', false, false, async () => probe(health.liveness()));
  routes.add('GET', '/readyz', false, false, async () => probe(health.readiness()));
  if (metrics !== undefined) {
    routes.add('GET', '/metrics', metricsPermission, false, async () => ({ text: await metrics.scrape(), headers: { 'content-type': metrics.contentType } }));
  }
  if (auth !== false && auth.issuesTokens) {
    routes.add('POST', '/auth/refresh', false, true, async ({ body }) => ({ body: await auth.refresh((body as { refreshToken?: unknown } | undefined)?.refreshToken) }));
  }
  routes.add('GET', `${admin}/hosts`, 'admin:read', false, async () => {
    const states = new Map<HostName, string>(health.workers().map((w) => [w.host, w.state]));
    const stats = system.stats();
    return { body: { workers: stats.workers, hosts: stats.hosts.map((h) => ({ ...h, state: states.get(h.host) ?? 'up' })) } };
  });
  routes.add('GET', `${admin}/actors`, 'admin:read', false, async () => {
    const stats = system.stats();
    const hosts = stats.hosts.map((h) => ({
      host: h.host, actors: h.actors, mailboxQueued: h.mailboxQueued, busyActors: h.busyActors, pendingAsks: h.pendingAsks,
      messagesIn: h.messagesIn, messagesOut: h.messagesOut, deadLetters: h.deadLetters, errors: h.errors, restarts: h.restarts,
    }));
    const named = system.names().map(({ name, ref }) => ({ name, id: ref.id, host: system.hostOf(ref) }));
    return { body: { total: stats.total.actors, hosts, named } };
  });
  routes.add('GET', `${admin}/actors/:name`, 'admin:read', false, async ({ params }) => {
    const ref = lookupOr404(system, params.name);
    return { body: { name: params.name, id: ref.id, host: system.hostOf(ref) } };
  });
  // Stop and restart: the same lookup, action and record, under their own permission.
  for (const [verb, permission, act, done] of [
    ['stop', 'actors:stop', (ref: ActorRef) => system.stop(ref), 'stopped'],
    ['restart', 'actors:restart', (ref: ActorRef) => system.restart(ref), 'restarted'],
  ] as const) {
    routes.add('POST', `${admin}/actors/:name/${verb}`, permission, false, async (request) => {
      const { params } = request;
      const ref = await audited(`admin.actor.${verb}`, request, params.name, async () => {
        const found = lookupOr404(system, params.name);
        await act(found);
        return found;
      }, (found) => ({ id: found.id }));
      return { body: { name: params.name, id: ref.id, [done]: true } };
    });
  }
  routes.add('GET', `${admin}/stats`, 'admin:read', false, async () => ({ body: system.stats() }));
  const ui = resolveAdminUi(parts.ui);
  if (ui !== undefined) mountAdminUi(routes, { system, health, adminPrefix: admin, closed: parts.closed }, ui);
  if (chaos) {
    routes.add('POST', `${admin}/workers/:worker/terminate`, 'chaos:inject', false, async (request) => {
      const { params } = request;
      const worker = Number(params.worker);
      const exitCode = await audited('admin.chaos.terminate-worker', request, `worker ${truncate(params.worker)}`, async () => {
        if (!/^\d+$/.test(params.worker) || worker >= system.workers) throw new HttpError(404, 'TROUPE_ERR_HTTP_NOT_FOUND', `no worker ${truncate(params.worker)}`);
        const exited = system[kInternals].terminateWorker(worker);
        if (exited === undefined) throw new HttpError(409, 'TROUPE_ERR_HTTP_CONFLICT', `worker ${worker} is not running`);
        return exited;
      }, (code) => ({ worker, exitCode: code }));
      return { body: { worker, exitCode } };
    });
  }
}

function lookupOr404(system: ActorSystem, name: string): ActorRef {
  const ref = system.lookup(name);
  if (ref === undefined) throw new HttpError(404, 'TROUPE_ERR_ACTOR_NOT_FOUND', `no running actor named ${JSON.stringify(truncate(name))}`);
  return ref;
}
