// A TypeScript actor module loaded as .ts by worker threads through tsx.
import { defineActor, type ActorContext } from 'troupe';

interface Greeting {
  type: 'greet';
  who: string;
}

export default defineActor({
  init: (args: { punctuation: string }) => ({ punctuation: args.punctuation, greeted: 0 }),
  receive(state: { punctuation: string; greeted: number }, msg: Greeting, ctx: ActorContext<Greeting>) {
    state.greeted += 1;
    ctx.reply(`hello ${msg.who}${state.punctuation} (#${state.greeted}, on worker ${String(ctx.host)})`);
  },
});
