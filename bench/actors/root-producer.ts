import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { defineActor } from 'troupe';
import { ping, produce } from '../lib.js';
import type { ProducerMessage, ProducerReport } from './producer.js';

/**
 * The producer (bench/actors/producer), but every ping starts a trace of its
 * own (sent in the root context, as a request arriving from outside would):
 * with a ratio sampler, that share of the pings is traced. For the tracing
 * benchmark; needs the `tracing` option.
 */
export default defineActor({
  async receive(_state, msg: ProducerMessage, ctx) {
    const { sink, n, burst } = msg;
    ctx.tell(sink, { type: 'reset' });
    const start = performance.now();
    const report = await produce((i) => context.with(ROOT_CONTEXT, () => ctx.tell(sink, ping(i))), n, burst, () => sink.whenWritable());
    await ctx.ask(sink, { type: 'expect', n }, { timeoutMs: 120_000 });
    const result: ProducerReport = { ms: performance.now() - start, ...report };
    ctx.reply(result);
  },
});
