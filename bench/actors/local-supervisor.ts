import { defineActor, type ActorRef } from 'troupe';

/**
 * A supervisor that starts one child on its own thread and answers any
 * message with the child's ref: a restart it orders never leaves the worker.
 * Its intensity is unbounded, since crashing the child is the point.
 */
export default defineActor({
  supervisor: { strategy: 'one_for_one', maxRestarts: 1_000_000_000, withinMs: 1000 },
  async init(args: { module: string }, ctx) {
    const child: ActorRef = await ctx.spawn(args.module, { host: 'local' });
    return { child };
  },
  receive(state, _msg: unknown, ctx) {
    ctx.reply(state.child);
  },
});
