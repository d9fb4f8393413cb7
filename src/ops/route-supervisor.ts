/**
 * The supervisor `gateway.spawn` puts between the root and a route's actor,
 * so that requests that crash the actor spend this supervisor's restart
 * budget, not the root's (OTP: a subsystem under its own supervisor). Past
 * the budget it stops the actor and fails; the root, for which it is a
 * `temporary` child, forgets it without counting a restart, and the gateway
 * answers `TROUPE_ERR_ROUTE_UNAVAILABLE` until it starts the pair again.
 *
 * Supervisor flags belong to a definition (`defineActor({ supervisor })`),
 * not to a spawn; so the budget travels in this module's URL
 * (`?maxRestarts=3&withinMs=5000`). ESM loads one module instance per URL,
 * so each budget gets its own definition, and actors with the same budget
 * share one instance per thread.
 */
import { defineActor } from '../actor/define-actor.js';

export interface RouteSupervisorArgs {
  /** The actor's module, as an href. */
  module: string;
  name: string;
  args?: unknown;
  export?: string;
}

const flags = new URL(import.meta.url).searchParams;

/** The one message it answers: its child's ref, so the gateway learns the id it watches without racing the name table. */
export const kChildQuery = 'troupe.route.child';

export default defineActor({
  supervisor: { strategy: 'one_for_one', maxRestarts: Number(flags.get('maxRestarts') ?? 10), withinMs: Number(flags.get('withinMs') ?? 5000) },
  // Its child runs beside it: restart orders stay on one thread.
  async init(spec: RouteSupervisorArgs, ctx) {
    const child = await ctx.spawn(spec.module, { name: spec.name, args: spec.args, host: 'local', ...(spec.export === undefined ? {} : { export: spec.export }) });
    return { child };
  },
  receive(state, msg: { type?: unknown }, ctx) {
    if (msg?.type === kChildQuery) ctx.reply(state.child);
  },
});
