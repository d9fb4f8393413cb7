import { defineActor, type ActorRef } from 'troupe';
import { ping, timeRoundTrips, type LatencyUs } from '../lib.js';

export type AskerMessage = { type: 'run'; target: ActorRef; count: number };
export type AskerReport = LatencyUs;

/** Asks `target` `count` times back to back (one in flight) and replies with the round-trip percentiles. */
export default defineActor({
  async receive(_state, msg: AskerMessage, ctx) {
    const report: AskerReport = await timeRoundTrips(msg.count, (i) => ctx.ask(msg.target, ping(i)));
    ctx.reply(report);
  },
});
