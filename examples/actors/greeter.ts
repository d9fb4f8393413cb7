// greeter.ts: answers with the node it runs on (each node process sets DEMO_NODE)
import { defineActor } from 'troupe';

export default defineActor({
  receive(_state, msg: { type: 'hello'; from: string }, ctx) {
    ctx.reply(`hello ${msg.from}, from ${process.env.DEMO_NODE}`);
  },
});
