import { InvalidArgumentError } from '../errors.js';
import { resolveSupervisor, type SupervisorOptions } from '../supervision/strategy.js';
import type { ActorContext } from './context.js';

/** Marks a definition so a runtime loaded from another copy of the package still recognises it. */
export const kActorDefinition = Symbol.for('troupe.actor-definition');

/** The behaviour of an actor: plain logic; the runtime owns mailbox, lifecycle and threads. */
export interface ActorBehavior<TState, TMsg, TArgs> {
  /**
   * Builds the initial state; runs on the actor's host at spawn and again at
   * every restart. Its `ctx` acts for the same actor as the one handlers get,
   * but is not the same object (an actor that is only spawned keeps none):
   * compare refs by `id`, not by identity.
   */
  init?: (args: TArgs, ctx: ActorContext<TMsg>) => TState | Promise<TState>;
  /**
   * Handles one message. Mutate `state` in place; the return value is ignored
   * except that a returned promise is awaited before the next message.
   * A throw (or rejection) crashes the actor: the message goes to dead letters
   * and the actor restarts with fresh state from `init`.
   */
  receive: (state: TState, msg: TMsg, ctx: ActorContext<TMsg>) => void | Promise<void>;
  /** Runs when the actor stops or before it restarts; errors are logged, not raised. */
  onStop?: (state: TState, ctx: ActorContext<TMsg>) => void | Promise<void>;
  /**
   * How this actor supervises its children (spawned with `ctx.spawn`):
   * OTP's strategies and restart intensity; OTP's defaults
   * (`one_for_one`, 1 restart in 5 s) where not given.
   */
  supervisor?: SupervisorOptions;
}

export interface ActorDefinition<TState = any, TMsg = any, TArgs = any> extends ActorBehavior<TState, TMsg, TArgs> {
  readonly [kActorDefinition]: true;
}

const kKeys = new Set(['init', 'receive', 'onStop', 'supervisor']);

/**
 * Defines an actor. Export the result as the default export of a module; the
 * module is what `spawn` loads, on whichever thread the actor is placed.
 *
 * @example
 * export default defineActor({
 *   init: (args: { start: number }) => ({ n: args.start }),
 *   receive(state, msg, ctx) {
 *     if (msg.type === 'inc') state.n += 1;
 *     if (msg.type === 'get') ctx.reply(state.n);
 *   },
 * });
 */
export function defineActor<TState = undefined, TMsg = any, TArgs = any>(
  behavior: ActorBehavior<TState, TMsg, TArgs>,
): ActorDefinition<TState, TMsg, TArgs> {
  if (behavior === null || typeof behavior !== 'object') {
    throw new InvalidArgumentError('defineActor() takes an object with init, receive and onStop');
  }
  for (const key of Object.keys(behavior)) {
    if (!kKeys.has(key)) throw new InvalidArgumentError(`defineActor(): unknown key "${key}" (expected init, receive, onStop, supervisor)`);
  }
  if (typeof behavior.receive !== 'function') throw new InvalidArgumentError('defineActor(): receive must be a function');
  if (behavior.init !== undefined && typeof behavior.init !== 'function') throw new InvalidArgumentError('defineActor(): init must be a function');
  if (behavior.onStop !== undefined && typeof behavior.onStop !== 'function') throw new InvalidArgumentError('defineActor(): onStop must be a function');
  resolveSupervisor(behavior.supervisor, 'defineActor(): supervisor');
  return Object.freeze({ ...behavior, [kActorDefinition]: true as const });
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  return typeof value === 'object' && value !== null && (value as { [kActorDefinition]?: unknown })[kActorDefinition] === true;
}
