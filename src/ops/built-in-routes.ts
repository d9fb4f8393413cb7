/**
 * The routes every gateway serves besides the user's: the probes
 * (`/healthz`, `/readyz`), `/metrics`, token refresh, the admin API under
 * its prefix and, when asked for, the chaos route. Each asks the system
 * directly, not an actor, and needs its own permission.
 */
import type { HostName } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { kInternals, type ActorSystem } from '../system/actor-system.js';
import type { Auth, Permission } from './auth.js';
import { HttpError, truncate } from './errors.js';
import type { HealthMonitor, HealthReport } from './health.js';
import type { TroupeMetrics } from './metrics.js';
import type { Reply, RouteTable } from './route-table.js';

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
}

export function mountBuiltIns(routes: RouteTable, parts: BuiltInParts): void {
  const { system, health, metrics, auth, adminPrefix: admin, metricsPermission, chaos } = parts;
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
  routes.add('POST', `${admin}/actors/:name/stop`, 'actors:stop', false, async ({ params }) => {
    const ref = lookupOr404(system, params.name);
    await system.stop(ref);
    return { body: { name: params.name, id: ref.id, stopped: true } };
  });
  routes.add('POST', `${admin}/actors/:name/restart`, 'actors:restart', false, async ({ params }) => {
    const ref = lookupOr404(system, params.name);
    await system.restart(ref);
    return { body: { name: params.name, id: ref.id, restarted: true } };
  });
  routes.add('GET', `${admin}/stats`, 'admin:read', false, async () => ({ body: system.stats() }));
  if (chaos) {
    routes.add('POST', `${admin}/workers/:worker/terminate`, 'chaos:inject', false, async ({ params }) => {
      const worker = Number(params.worker);
      if (!/^\d+$/.test(params.worker) || worker >= system.workers) throw new HttpError(404, 'TROUPE_ERR_HTTP_NOT_FOUND', `no worker ${truncate(params.worker)}`);
      const exited = system[kInternals].terminateWorker(worker);
      if (exited === undefined) throw new HttpError(409, 'TROUPE_ERR_HTTP_CONFLICT', `worker ${worker} is not running`);
      return { body: { worker, exitCode: await exited } };
    });
  }
}

function lookupOr404(system: ActorSystem, name: string): ActorRef {
  const ref = system.lookup(name);
  if (ref === undefined) throw new HttpError(404, 'TROUPE_ERR_ACTOR_NOT_FOUND', `no running actor named ${JSON.stringify(truncate(name))}`);
  return ref;
}
