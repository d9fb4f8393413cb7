// producer.ts: open the channel in init, hand it every message, close it in onStop
import { defineActor, type ActorRef } from 'troupe';
import { reliableProducer } from 'troupe/reliable';

export default defineActor({
  init: (args: { consumer: ActorRef }, ctx) => ({ out: reliableProducer(ctx, args.consumer, { window: 256 }) }),
  receive(state, msg: { amount: number } | { type: 'flush' }, ctx) {
    if (state.out.handle(msg)) return; // the consumer's acks
    if ('type' in msg) {
      // Answer once every message sent so far is confirmed; the acks keep arriving meanwhile.
      const reply = ctx.deferReply<number>();
      void state.out.whenConfirmed().then(() => reply.send(state.out.confirmed));
      return;
    }
    state.out.send({ amount: msg.amount });
  },
  onStop: (state) => state.out.close(),
});
