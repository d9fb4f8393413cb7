import { defineActor, type ActorRef } from 'troupe';

export interface AgentArgs {
  index: number;
  /** A flaky agent crashes on some help requests (restarted by its host, fresh state from init). */
  flaky: boolean;
}

export type AgentMessage =
  /** From the coordinator: ask each of `peers` for help with `x`, answer with the outcome. */
  | { type: 'work'; x: number; peers: ActorRef[] }
  /** From a peer agent. */
  | { type: 'help'; x: number };

export interface WorkReport {
  answered: number;
  failed: number;
  /** Round trip of each answered peer ask, in nanoseconds. */
  latenciesNs: number[];
  value: number;
}

/** A flaky agent trips on one help request in this many (decided by the request, so runs replay). */
export const kCrashEvery = 1500;

/**
 * One agent of the swarm. It never awaits inside its handler: a `work`
 * request fans out asks to peers and answers later through a deferred reply,
 * so the agent keeps serving `help` from others meanwhile (two agents that
 * awaited each other's help would deadlock until their asks timed out).
 */
export default defineActor({
  init: (args: AgentArgs) => ({ index: args.index, flaky: args.flaky, served: 0 }),
  receive(state, msg: AgentMessage, ctx) {
    if (msg.type === 'help') {
      state.served++;
      if (state.flaky && msg.x % kCrashEvery === 0) throw new Error(`agent ${state.index} tripped over ${msg.x}`);
      ctx.reply(Math.imul(msg.x ^ state.index, 0x9e3779b1) >>> 16);
      return;
    }
    const reply = ctx.deferReply<WorkReport>();
    const asks = msg.peers.map(async (peer, i) => {
      const start = performance.now();
      const value = await ctx.ask<number>(peer, { type: 'help', x: msg.x + i }, { timeoutMs: 2000 });
      return { value, ns: Math.round((performance.now() - start) * 1e6) };
    });
    void Promise.allSettled(asks).then((settled) => {
      const report: WorkReport = { answered: 0, failed: 0, latenciesNs: [], value: 0 };
      for (const outcome of settled) {
        if (outcome.status === 'rejected') {
          report.failed++;
          continue;
        }
        report.answered++;
        report.latenciesNs.push(outcome.value.ns);
        report.value = (report.value + outcome.value.value) >>> 0;
      }
      reply.send(report);
    });
  },
});
