/**
 * xstate v5 (the most used actor library in TypeScript) doing Savina's
 * PingPong and Counting in one thread: machines created with `setup()`,
 * actors with `createActor`, messages with `sendTo` / `actor.send`. Each
 * function returns the milliseconds of one run.
 */
import { assign, createActor, sendTo, setup, type AnyActorRef } from 'xstate';

type PongEvent = { type: 'PING'; from: AnyActorRef };

const pongMachine = setup({ types: {} as { events: PongEvent } }).createMachine({
  on: { PING: { actions: sendTo(({ event }) => event.from, { type: 'PONG' }) } },
});

const pingMachine = setup({
  types: {} as {
    context: { left: number; pong: AnyActorRef };
    input: { n: number; pong: AnyActorRef };
    events: { type: 'START' } | { type: 'PONG' };
  },
  actions: {
    sendPing: sendTo(({ context }) => context.pong, ({ self }) => ({ type: 'PING', from: self })),
  },
}).createMachine({
  context: ({ input }) => ({ left: input.n, pong: input.pong }),
  initial: 'playing',
  states: {
    playing: {
      on: {
        START: { actions: 'sendPing' },
        PONG: [
          { guard: ({ context }) => context.left <= 1, target: 'done' },
          { actions: [assign({ left: ({ context }) => context.left - 1 }), 'sendPing'] },
        ],
      },
    },
    done: { type: 'final' },
  },
});

/** N pings, each answered by a pong (2N messages), between two xstate actors. */
export async function xstatePingPong(n: number): Promise<number> {
  const pong = createActor(pongMachine).start();
  const ping = createActor(pingMachine, { input: { n, pong } }).start();
  const done = new Promise<void>((resolve, reject) => ping.subscribe({ complete: resolve, error: reject }));
  const start = performance.now();
  ping.send({ type: 'START' });
  await done;
  const ms = performance.now() - start;
  pong.stop();
  return ms;
}

const counterMachine = setup({ types: {} as { context: { n: number }; events: { type: 'INC' } } }).createMachine({
  context: { n: 0 },
  on: { INC: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

const kInc = Object.freeze({ type: 'INC' as const });

/** N increments sent to an xstate counter actor, then its count read back. */
export function xstateCounting(n: number): Promise<number> {
  const counter = createActor(counterMachine).start();
  const start = performance.now();
  for (let i = 0; i < n; i++) counter.send(kInc);
  const count = counter.getSnapshot().context.n;
  const ms = performance.now() - start;
  counter.stop();
  if (count !== n) throw new Error(`xstate counter saw ${count} of ${n}`);
  return Promise.resolve(ms);
}
