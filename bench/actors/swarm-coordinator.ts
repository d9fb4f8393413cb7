import { defineActor, type ActorRef } from 'troupe';
import { latencyHistogram, percentilesUs, type LatencyUs } from '../lib.js';

export type CoordinatorMessage = { type: 'rounds'; agents: ActorRef[]; rounds: number; inFlight: number };

export interface RoundReport {
  ms: number;
  rounds: number;
  tasks: number;
  failed: number;
  /** Agent → peer ask round trips (across threads), as the agents timed them. */
  peer: LatencyUs;
  /** Coordinator → agent → peer → agent → coordinator, as the coordinator timed it. */
  task: LatencyUs;
}

/**
 * The swarm's coordinator: one round asks every agent for a `task` (agent i
 * gets agent i+1 as its peer), with at most `inFlight` tasks outstanding, and
 * records each inter-agent round trip and each task's latency in hdr
 * histograms. Runs `rounds` rounds back to back and replies with one report.
 */
export default defineActor({
  async receive(_state, msg: CoordinatorMessage, ctx) {
    const reply = ctx.deferReply<RoundReport>();
    const { agents, inFlight, rounds } = msg;
    const n = agents.length;
    const peer = latencyHistogram();
    const task = latencyHistogram();
    let next = 0;
    let failed = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const start = performance.now();
        try {
          const peerNs = await ctx.ask<number>(agents[i], { type: 'task', peer: agents[(i + 1) % n], i }, { timeoutMs: 60_000 });
          task.recordValue(Math.max(1, Math.round((performance.now() - start) * 1e6)));
          peer.recordValue(peerNs);
        } catch {
          failed++;
        }
      }
    };
    const start = performance.now();
    for (let round = 0; round < rounds; round++) {
      next = 0;
      await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
    }
    const report: RoundReport = { ms: performance.now() - start, rounds, tasks: rounds * n, failed, peer: percentilesUs(peer), task: percentilesUs(task) };
    peer.destroy();
    task.destroy();
    reply.send(report);
  },
});
