import { defineActor } from 'troupe';

type Event = { type: 'deposited'; amount: number };

export default defineActor({
  init: () => ({ balance: 0 }),
  persistence: {
    // Pure: rebuilds the state from the events at recovery, and after each persist.
    apply: (state: { balance: number }, event: Event) => {
      if (event.type === 'deposited') state.balance += event.amount;
      return state;
    },
    snapshotEvery: 1000,
  },
  async receive(state, msg: { type: 'deposit'; amount: number } | { type: 'get' }, ctx) {
    if (msg.type === 'deposit') {
      await ctx.persist({ type: 'deposited', amount: msg.amount }); // durable when this resolves
      ctx.reply(state.balance); // the event is already applied
    }
    if (msg.type === 'get') ctx.reply(state.balance);
  },
});
