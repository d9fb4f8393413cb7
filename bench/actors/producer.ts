import { defineActor, type ActorRef } from 'troupe';
import { ping, produce, type ProduceReport } from '../lib.js';

export type ProducerMessage = {
  type: 'run';
  sink: ActorRef;
  n: number;
  burst: number;
  /** Adds `data`: a Uint8Array of this many bytes to every ping (the payload curve). */
  bytes?: number;
};

export interface ProducerReport extends ProduceReport {
  /** From the first send to the sink's answer that all `n` arrived. */
  ms: number;
}

/**
 * Sends `n` pings to a sink (actors/sink) with backpressure, then waits for
 * the sink to confirm it counted them all, and replies with the elapsed time.
 * Placement decides what is measured: sink on another worker (lanes) or on
 * this host (mailbox fast path).
 */
export default defineActor({
  async receive(_state, msg: ProducerMessage, ctx) {
    const { sink, n, burst } = msg;
    const data = msg.bytes === undefined ? undefined : new Uint8Array(msg.bytes).fill(7);
    // Same sender, same lane as the pings: the sink resets before counting them.
    ctx.tell(sink, { type: 'reset' });
    const start = performance.now();
    const report = data === undefined
      ? await produce((i) => ctx.tell(sink, ping(i)), n, burst, () => sink.whenWritable())
      : await produce((i) => ctx.tell(sink, { to: 1, type: 'ping', n: i, data }), n, burst, () => sink.whenWritable());
    await ctx.ask(sink, { type: 'expect', n }, { timeoutMs: 120_000 });
    const result: ProducerReport = { ms: performance.now() - start, ...report };
    ctx.reply(result);
  },
});
