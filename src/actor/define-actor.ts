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
  /**
   * Makes the actor durable (event sourced): its state is rebuilt from its
   * journal when it starts, and `ctx.persist` appends to it. The system needs
   * a `store`; the actor a `name` or `persistenceId` (see troupe/persistence).
   */
  persistence?: PersistenceOptions<TState, any>;
}

/**
 * @internal A wrapper's hook on `persistence` (a symbol, so no user's key):
 * turns a recovered snapshot, after upcasting, into its state. reliable()
 * uses it to take a snapshot written before the behaviour was wrapped.
 */
export const kRestoreSnapshot = Symbol('troupe.restoreSnapshot');

/** How a durable actor's state is rebuilt from its events (`defineActor({ persistence })`). */
export interface PersistenceOptions<TState, TEvent> {
  /**
   * Applies one event to the state: pure (no I/O, no messages), since it runs
   * again at every recovery. Mutate `state` and return it; a returned value
   * other than `undefined` becomes the state (later messages see it; the
   * running handler's own `state` variable does not).
   */
  apply: (state: TState, event: TEvent) => TState | void;
  /** A snapshot of the state every this many events bounds the replay at recovery. @default none */
  snapshotEvery?: number;
  /** The version of the events and snapshots this code writes; records of older versions go through `upcast`. @default 1 */
  version?: number;
  /**
   * Turns an event or snapshot written by version `fromVersion` (older than
   * `version`) into what this code expects. Without it, old records are used as they are.
   */
  upcast?: (eventOrSnapshot: any, fromVersion: number, kind: 'event' | 'snapshot') => unknown;
  /** What is kept when a snapshot is written: the newest `keepSnapshots`, and with `deleteEvents` no event the oldest of them covers. @default all */
  retention?: { keepSnapshots: number; deleteEvents?: boolean };
  /** @internal See kRestoreSnapshot. */
  [kRestoreSnapshot]?: (snapshot: unknown) => TState;
}

export interface ActorDefinition<TState = any, TMsg = any, TArgs = any> extends ActorBehavior<TState, TMsg, TArgs> {
  readonly [kActorDefinition]: true;
}

const kKeys = new Set(['init', 'receive', 'onStop', 'supervisor', 'persistence']);
const kPersistenceKeys = new Set(['apply', 'snapshotEvery', 'version', 'upcast', 'retention']);

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
    if (!kKeys.has(key)) throw new InvalidArgumentError(`defineActor(): unknown key "${key}" (expected init, receive, onStop, supervisor, persistence)`);
  }
  if (typeof behavior.receive !== 'function') throw new InvalidArgumentError('defineActor(): receive must be a function');
  if (behavior.init !== undefined && typeof behavior.init !== 'function') throw new InvalidArgumentError('defineActor(): init must be a function');
  if (behavior.onStop !== undefined && typeof behavior.onStop !== 'function') throw new InvalidArgumentError('defineActor(): onStop must be a function');
  resolveSupervisor(behavior.supervisor, 'defineActor(): supervisor');
  if (behavior.persistence !== undefined) checkPersistence(behavior.persistence);
  return Object.freeze({ ...behavior, [kActorDefinition]: true as const });
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  return typeof value === 'object' && value !== null && (value as { [kActorDefinition]?: unknown })[kActorDefinition] === true;
}

function checkPersistence(persistence: PersistenceOptions<any, any>): void {
  const where = 'defineActor(): persistence';
  if (persistence === null || typeof persistence !== 'object') throw new InvalidArgumentError(`${where} must be an object with apply`);
  for (const key of Object.keys(persistence)) {
    if (!kPersistenceKeys.has(key)) throw new InvalidArgumentError(`${where}: unknown key "${key}" (expected ${[...kPersistenceKeys].join(', ')})`);
  }
  if (typeof persistence.apply !== 'function') throw new InvalidArgumentError(`${where}.apply must be a function (state, event) => state`);
  const positive = (value: unknown, name: string): void => {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 2 ** 31 - 1)) {
      throw new InvalidArgumentError(`${where}.${name} must be a positive integer, received ${String(value)}`);
    }
  };
  positive(persistence.snapshotEvery, 'snapshotEvery');
  positive(persistence.version, 'version');
  if (persistence.upcast !== undefined && typeof persistence.upcast !== 'function') throw new InvalidArgumentError(`${where}.upcast must be a function`);
  const retention = persistence.retention;
  if (retention !== undefined) {
    if (retention === null || typeof retention !== 'object') throw new InvalidArgumentError(`${where}.retention must be an object { keepSnapshots, deleteEvents? }`);
    positive(retention.keepSnapshots, 'retention.keepSnapshots');
    if (retention.keepSnapshots === undefined) throw new InvalidArgumentError(`${where}.retention.keepSnapshots is required`);
    if (retention.deleteEvents !== undefined && typeof retention.deleteEvents !== 'boolean') throw new InvalidArgumentError(`${where}.retention.deleteEvents must be a boolean`);
    if (persistence.snapshotEvery === undefined) throw new InvalidArgumentError(`${where}.retention needs snapshotEvery (it applies when a snapshot is written)`);
  }
}
