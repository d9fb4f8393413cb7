import { build, type Histogram } from 'hdr-histogram-js';
import { defineActor, type ActorContext, type ActorRef, type ReplyHandle } from 'troupe';
import type { AgentArgs, AgentMessage, WorkReport } from './agent.js';
import { seededRandom } from './random.js';

export interface CoordinatorArgs {
  agents: number;
  seed: number;
  /** Peers each agent asks per work request. */
  fanout: number;
  /** Work requests the coordinator keeps in flight. */
  inFlight: number;
  /** Every how many agents one is flaky. */
  flakyEvery: number;
}

export type CoordinatorMessage =
  | { type: 'start' }
  | { type: 'report' }
  | { type: 'stop' }
  | { type: 'done'; report: WorkReport }
  | { type: 'failed'; code: string };

export interface WindowReport {
  rounds: number;
  asks: number;
  failedAsks: number;
  failedRounds: number;
  p95Us: number;
}

export interface FinalReport extends WindowReport {
  p50Us: number;
  p99Us: number;
  maxUs: number;
  failureCodes: Record<string, number>;
}

interface State {
  agents: ActorRef<AgentMessage>[];
  random: () => number;
  args: CoordinatorArgs;
  running: boolean;
  outstanding: number;
  stopped: ReplyHandle<FinalReport> | undefined;
  window: Histogram;
  total: Histogram;
  windowCounts: WindowReport;
  totalCounts: WindowReport;
  failureCodes: Record<string, number>;
}

const agentModule = new URL('./agent.js', import.meta.url);
const newHistogram = (): Histogram => build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 });
const zero = (): WindowReport => ({ rounds: 0, asks: 0, failedAsks: 0, failedRounds: 0, p95Us: 0 });
const us = (ns: number): number => Math.round(ns / 100) / 10;

/**
 * Spawns the swarm as its children (spread round-robin over the workers) and
 * keeps `inFlight` work requests going: each goes to a random agent with a
 * random set of peers to ask (refs travel inside the message). Outcomes come
 * back to the coordinator as messages to itself, so its state is only ever
 * touched by its own handler.
 */
export default defineActor({
  // Some agents are flaky by design: restart each one that crashes, as often as
  // it takes (OTP's default, 1 restart in 5 s, would give up on the second crash).
  supervisor: { strategy: 'one_for_one', maxRestarts: 10_000, withinMs: 1000 },
  async init(args: CoordinatorArgs, ctx): Promise<State> {
    const agents = await Promise.all(
      Array.from({ length: args.agents }, (_, index) => {
        const agentArgs: AgentArgs = { index, flaky: index % args.flakyEvery === args.flakyEvery - 1 };
        return ctx.spawn<AgentMessage>(agentModule, { args: agentArgs });
      }),
    );
    return {
      agents,
      random: seededRandom(args.seed),
      args,
      running: false,
      outstanding: 0,
      stopped: undefined,
      window: newHistogram(),
      total: newHistogram(),
      windowCounts: zero(),
      totalCounts: zero(),
      failureCodes: {},
    };
  },
  receive(state, msg: CoordinatorMessage, ctx) {
    switch (msg.type) {
      case 'start':
        state.running = true;
        while (state.outstanding < state.args.inFlight) launch(state, ctx);
        return;
      case 'done':
      case 'failed':
        state.outstanding--;
        for (const counts of [state.windowCounts, state.totalCounts]) {
          counts.rounds++;
          if (msg.type === 'failed') counts.failedRounds++;
        }
        if (msg.type === 'done') {
          for (const ns of msg.report.latenciesNs) {
            state.window.recordValue(Math.max(1, ns));
            state.total.recordValue(Math.max(1, ns));
          }
          for (const counts of [state.windowCounts, state.totalCounts]) {
            counts.asks += msg.report.answered + msg.report.failed;
            counts.failedAsks += msg.report.failed;
          }
        } else {
          state.failureCodes[msg.code] = (state.failureCodes[msg.code] ?? 0) + 1;
        }
        if (state.running) launch(state, ctx);
        else if (state.outstanding === 0) finish(state);
        return;
      case 'report': {
        const report = { ...state.windowCounts, p95Us: us(state.window.getValueAtPercentile(95)) };
        state.window.reset();
        state.windowCounts = zero();
        ctx.reply(report);
        return;
      }
      case 'stop':
        state.running = false;
        state.stopped = ctx.deferReply<FinalReport>();
        if (state.outstanding === 0) finish(state);
        return;
    }
  },
  onStop(state) {
    state.window.destroy();
    state.total.destroy();
  },
});

function launch(state: State, ctx: ActorContext<CoordinatorMessage>): void {
  const { agents, random, args } = state;
  const pick = (): ActorRef<AgentMessage> => agents[Math.floor(random() * agents.length)];
  const worker = pick();
  const peers: ActorRef[] = [];
  while (peers.length < args.fanout) {
    const peer = pick();
    if (peer.id !== worker.id) peers.push(peer);
  }
  const x = Math.floor(random() * 0x7fffffff);
  state.outstanding++;
  ctx.ask<WorkReport>(worker, { type: 'work', x, peers } satisfies AgentMessage, { timeoutMs: 5000 }).then(
    (report) => ctx.tell(ctx.self, { type: 'done', report } satisfies CoordinatorMessage),
    (error: unknown) => ctx.tell(ctx.self, { type: 'failed', code: String((error as { code?: unknown }).code ?? 'ERROR') } satisfies CoordinatorMessage),
  );
}

function finish(state: State): void {
  const total = state.total;
  state.stopped?.send({
    ...state.totalCounts,
    p50Us: us(total.getValueAtPercentile(50)),
    p95Us: us(total.getValueAtPercentile(95)),
    p99Us: us(total.getValueAtPercentile(99)),
    maxUs: us(total.maxValue),
    failureCodes: state.failureCodes,
  });
  state.stopped = undefined;
}
