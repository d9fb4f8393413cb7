// actors/orders.ts
import { defineActor } from 'troupe';

type OrdersMessage =
  | { type: 'place'; order: unknown; by?: string }
  | { type: 'get'; id: number }
  | { type: 'expire-stale' };

export default defineActor({
  init: () => ({ next: 1, orders: new Map<number, { order: unknown; by?: string; at: number }>() }),
  receive(state, msg: OrdersMessage, ctx) {
    switch (msg.type) {
      case 'place': {
        const id = state.next++;
        state.orders.set(id, { order: msg.order, by: msg.by, at: Date.now() });
        ctx.reply(id);
        break;
      }
      case 'get': {
        const entry = state.orders.get(msg.id);
        ctx.reply(entry === undefined ? null : { id: msg.id, ...entry });
        break;
      }
      case 'expire-stale':
        for (const [id, entry] of state.orders) if (Date.now() - entry.at > 86_400_000) state.orders.delete(id);
        break;
    }
  },
});
