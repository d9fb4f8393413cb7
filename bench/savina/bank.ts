/**
 * Savina Bank Transaction: a teller sends T transfers between A accounts;
 * the source account debits itself, asks the destination to credit the
 * amount (and handles nothing else until it answers, as Savina's stashing
 * account does), then tells the teller. As in Savina, the destination is
 * always above the source, so waits never form a cycle.
 */
import { defineActor, type ActorContext, type ActorRef, type ReplyHandle } from 'troupe';
import { produce, seededRandom, type ProduceReport } from '../lib.js';

export type TellerMessage = { type: 'run'; accounts: ActorRef[]; transactions: number; seed: number; burst: number } | { type: 'reply' };
export type AccountMessage = { type: 'transfer'; amount: number; to: ActorRef } | { type: 'credit'; amount: number };

export interface BankReport extends ProduceReport {
  ms: number;
  replies: number;
}

const kReply = Object.freeze({ type: 'reply' as const });
const kAskTimeoutMs = 120_000;

interface TellerState {
  replies: number;
  expected: number;
  start: number;
  report: ProduceReport | undefined;
  done: ReplyHandle<BankReport> | undefined;
}

export const teller = defineActor({
  init: (): TellerState => ({ replies: 0, expected: 0, start: 0, report: undefined, done: undefined }),
  receive(state, msg: TellerMessage, ctx) {
    if (msg.type === 'reply') {
      if (++state.replies === state.expected) {
        state.done?.send({ ms: performance.now() - state.start, replies: state.replies, ...state.report! });
        state.done = undefined;
      }
      return;
    }
    return run(state, msg, ctx);
  },
});

/** Sends the transfers; replies queue in the mailbox while this awaits backpressure. */
async function run(state: TellerState, msg: Extract<TellerMessage, { type: 'run' }>, ctx: ActorContext): Promise<void> {
  const { accounts, transactions, burst } = msg;
  const random = seededRandom(msg.seed);
  const sources = Math.floor(accounts.length / 10) * 8;
  Object.assign(state, { replies: 0, expected: transactions, start: performance.now() });
  state.done = ctx.deferReply<BankReport>();
  let last = accounts[0];
  state.report = await produce(
    () => {
      const src = Math.floor(random() * sources);
      let dest = src + Math.floor(random() * (accounts.length - src));
      if (dest === src) dest++;
      last = accounts[src];
      return ctx.tell(last, { type: 'transfer', amount: Math.floor(random() * 1000), to: accounts[dest] });
    },
    transactions,
    burst,
    () => last.whenWritable(),
  );
}

export const account = defineActor({
  init: (args: { balance: number } | undefined) => ({ balance: args?.balance ?? 1e9 }),
  receive(state, msg: AccountMessage, ctx) {
    if (msg.type === 'credit') {
      state.balance += msg.amount;
      ctx.reply(true);
      return;
    }
    state.balance -= msg.amount;
    return ctx.ask(msg.to, { type: 'credit', amount: msg.amount }, { timeoutMs: kAskTimeoutMs }).then(() => {
      ctx.reply(kReply);
    });
  },
});
