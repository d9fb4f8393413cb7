/**
 * The durable actor of a process scenario: a ledger of the numbers appended
 * to it. An append is answered only after its event is durable, so every
 * answer the client outside the process saw is a promise the journal must
 * keep across a SIGKILL. Snapshots every 64 events, so recovery runs
 * through snapshot + tail, not only a replay.
 */
import { defineActor } from 'troupe';

interface Ledger {
  ks: number[];
}

type LedgerMsg = { type: 'add'; k: number } | { type: 'read' };

export default defineActor({
  init: (): Ledger => ({ ks: [] }),
  persistence: {
    apply: (state: Ledger, event: { k: number }) => {
      state.ks.push(event.k);
      return state;
    },
    snapshotEvery: 64,
  },
  async receive(state: Ledger, msg: LedgerMsg, ctx) {
    if (msg.type === 'add') {
      await ctx.persist({ k: msg.k });
      ctx.reply(true);
    } else if (msg.type === 'read') {
      ctx.reply(state.ks);
    }
  },
});
