import { defineActor, type ActorRef, type HostName } from 'troupe';

export interface RouterArgs {
  /** Module URL of the routees. */
  module: string;
  size: number;
  /** init args of every routee. */
  args?: unknown;
  /** Where routees run (default: spread over the workers). */
  host?: HostName | 'local';
}

/**
 * A round-robin pool: spawns `size` children from `module` and forwards each
 * message to the next one, keeping the original sender, so a routee's reply
 * answers the caller's ask directly.
 */
export default defineActor({
  async init(args: RouterArgs, ctx) {
    const routees: ActorRef[] = [];
    for (let i = 0; i < args.size; i++) {
      routees.push(await ctx.spawn(args.module, { args: args.args, ...(args.host === undefined ? {} : { host: args.host }) }));
    }
    return { routees, next: 0 };
  },
  receive(state, msg: unknown, ctx) {
    const routee = state.routees[state.next];
    state.next = (state.next + 1) % state.routees.length;
    ctx.forward(routee, msg);
  },
});
