/**
 * The agents' hub, a durable actor on main (persistenceId `troupe.agents/runs`):
 * (no snapshots: the token that routes events is the activation's, not the journal's) the index of every run started on this store (so a restarted process
 * resumes the unfinished ones and `agents.get(id)` knows an old one), and the
 * relay of run events (step events from workflow actors, tokens from
 * providers) to the Run handles on main.
 */
import { defineActor } from '../actor/define-actor.js';
import { runEventSinks } from './run-listeners.js';
import type { RunStatus } from './run-journal.js';

export interface RunEntry {
  module: string;
  export: string;
  status: RunStatus;
}

type HubEvent = { t: 'registered'; id: string; module: string; export: string } | { t: 'ended'; id: string; status: RunStatus };

export type HubMessage =
  | { type: 'register'; id: string; module: string; export: string }
  | { type: 'ended'; id: string; status: RunStatus }
  | { type: 'entry'; id: string }
  | { type: 'unfinished' }
  | { type: 'list' }
  | { type: 'event'; run: string; event: Record<string, unknown> };

interface HubState {
  token: string;
  runs: Record<string, RunEntry>;
}

export default defineActor<HubState, HubMessage, { token: string }>({
  init: ({ token }) => ({ token, runs: {} }),
  persistence: {
    apply(state: HubState, event: HubEvent) {
      if (event.t === 'registered') state.runs[event.id] = { module: event.module, export: event.export, status: 'running' };
      else if (state.runs[event.id] !== undefined) state.runs[event.id].status = event.status;
      return state;
    },
  },
  async receive(state, msg, ctx) {
    switch (msg.type) {
      case 'event':
        runEventSinks.get(state.token)?.(msg.run, msg.event);
        return;
      case 'register': {
        const known = state.runs[msg.id];
        if (known !== undefined) return ctx.reply({ created: false, entry: known });
        await ctx.persist({ t: 'registered', id: msg.id, module: msg.module, export: msg.export } satisfies HubEvent);
        return ctx.reply({ created: true, entry: state.runs[msg.id] });
      }
      case 'ended':
        if (state.runs[msg.id] !== undefined && state.runs[msg.id].status !== msg.status) await ctx.persist({ t: 'ended', id: msg.id, status: msg.status } satisfies HubEvent);
        runEventSinks.get(state.token)?.(msg.id, { type: 'ended', status: msg.status, at: Date.now() });
        return;
      case 'entry':
        return ctx.reply(state.runs[msg.id]);
      case 'unfinished':
        return ctx.reply(Object.entries(state.runs).filter(([, entry]) => entry.status === 'running').map(([id, entry]) => ({ id, ...entry })));
      case 'list':
        return ctx.reply(Object.entries(state.runs).map(([id, entry]) => ({ id, status: entry.status })));
    }
  },
});
