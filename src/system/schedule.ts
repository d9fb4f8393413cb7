/**
 * Messages sent on a schedule: a cron expression (node-cron, seconds field
 * allowed, time zones) or a fixed interval in milliseconds (a plain timer:
 * cron cannot say "every 250 ms" or "every 7 s").
 *
 * A tick is `ref.tell(msg)` from outside any actor. Refs survive restarts,
 * so a schedule outlives any number of crashes of its target. When a tick
 * finds the target not running (stopped, or gone with its worker), the tick
 * is still sent and becomes a dead letter (observable as a `deadLetter`
 * event); with `onStopped: 'continue'` (the default) the schedule keeps
 * ticking, with `'stop'` that tick is its last. A schedule ends by itself
 * when the system stops.
 *
 * The target may also be a name, looked up at every tick, for an actor that
 * is started anew under the same name (a new ref), as `gateway.spawn`
 * revives one. A tick that finds no actor by that name has nobody to become
 * a dead letter for: it counts as a failure, and `onStopped` applies.
 */
import { schedule as cronSchedule, validate as validateCron, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { HostName } from '../actor/context.js';
import { isActorRef, type ActorRef } from '../actor/ref.js';
import { assertEncodable } from '../codec/validate.js';
import { ActorNotFoundError, InvalidArgumentError } from '../errors.js';
import { kDefaults } from '../options.js';
import type { SystemEvents } from './events.js';

/**
 * What a schedule asks of its system; an ActorSystem is one. Narrow so that
 * this module need not import actor-system.ts, whose `system.schedule` is
 * built on it.
 */
/** Runs a send outside any trace (a tick starts one of its own, whatever context the schedule was made in). */
export const kRunDetached = Symbol('troupe.runDetached');

export interface ScheduleSystem {
  [kRunDetached]?(send: () => void): void;
  lookup(name: string): ActorRef | undefined;
  hostOf(ref: ActorRef): HostName | undefined;
  readonly events: Pick<SystemEvents, 'on'>;
}

export interface ScheduleOptions {
  /** What a tick does when the target is not running: `'continue'` (a dead letter, keep ticking) or `'stop'` (a dead letter, then end). @default 'continue' */
  onStopped?: 'continue' | 'stop';
  /** IANA time zone of a cron expression. @default the process's */
  timezone?: string;
  /** A name for logs. */
  name?: string;
  /** Where failed ticks are logged (they are counted either way). */
  logger?: Logger;
}

export type ScheduleEnd = 'cancelled' | 'target-stopped' | 'system-stopped';

export interface Schedule {
  /** Ticks sent, dead letters included. */
  readonly ticks: number;
  /** Ticks that threw and were not sent (e.g. `TROUPE_ERR_MAILBOX_FULL`). */
  readonly failures: number;
  /** Cron slots skipped because the main thread was blocked past them. */
  readonly missed: number;
  readonly active: boolean;
  /** Resolves once the schedule has ended, with the reason. */
  readonly ended: Promise<ScheduleEnd>;
  /** When the next tick is due (null once ended). */
  nextRun(): Date | null;
  /** Ends the schedule; no tick is sent after this returns. Idempotent. */
  cancel(): void;
}

/**
 * Sends `msg` to `ref` on `when`: a cron expression (`'*\/5 * * * * *'`,
 * 5 or 6 fields) or an interval in milliseconds.
 *
 * @example
 * const job = schedule(system, '0 * * * *', reporter, { type: 'hourly-report' });
 * const heartbeat = schedule(system, 250, monitor, { type: 'tick' }, { onStopped: 'stop' });
 * job.cancel();
 */
export function schedule(system: ScheduleSystem, when: string | number, ref: ActorRef | string, msg: unknown, options: ScheduleOptions = {}): Schedule {
  if (!isActorRef(ref) && (typeof ref !== 'string' || ref.length === 0)) throw new InvalidArgumentError('schedule(system, when, ref, msg): ref must be an ActorRef or an actor\'s name');
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('schedule options must be an object');
  const onStopped = options.onStopped ?? 'continue';
  if (onStopped !== 'continue' && onStopped !== 'stop') throw new InvalidArgumentError(`schedule option "onStopped" must be 'continue' or 'stop', received ${String(onStopped)}`);
  // The message is sent as is on every tick: refuse it now rather than at each tick.
  assertEncodable(msg, kDefaults.maxMessageDepth);
  if (typeof when === 'number') {
    if (!Number.isFinite(when) || when < 1 || when > 2 ** 31 - 1) throw new InvalidArgumentError(`a schedule interval must be 1 to 2^31-1 milliseconds, received ${when}`);
  } else if (typeof when !== 'string' || !validateCron(when)) {
    throw new InvalidArgumentError(`${JSON.stringify(when)} is neither a cron expression nor an interval in milliseconds`);
  }
  return new ScheduleImpl(system, when, ref, msg, onStopped, options);
}

class ScheduleImpl implements Schedule {
  readonly ended: Promise<ScheduleEnd>;
  readonly #system: ScheduleSystem;
  readonly #ref: ActorRef | string;
  readonly #msg: unknown;
  readonly #onStopped: 'continue' | 'stop';
  readonly #log: Logger | undefined;
  readonly #label: string;
  readonly #offStopped: () => void;
  #settle!: (end: ScheduleEnd) => void;
  #task: ScheduledTask | undefined;
  #interval: NodeJS.Timeout | undefined;
  #intervalMs = 0;
  #lastTickAt = 0;
  #ticks = 0;
  #failures = 0;
  #missed = 0;
  #end: ScheduleEnd | undefined;

  constructor(system: ScheduleSystem, when: string | number, ref: ActorRef | string, msg: unknown, onStopped: 'continue' | 'stop', options: ScheduleOptions) {
    this.#system = system;
    this.#ref = ref;
    this.#msg = msg;
    this.#onStopped = onStopped;
    this.#log = options.logger;
    this.#label = options.name ?? `${String(when)} → ${String(ref)}`;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
    this.#offStopped = system.events.on('system.stopped', () => this.#finish('system-stopped'));
    if (typeof when === 'number') {
      this.#intervalMs = when;
      this.#lastTickAt = Date.now();
      this.#interval = setInterval(() => this.#tick(), when);
    } else {
      this.#task = cronSchedule(when, () => this.#tick(), {
        ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
        ...(options.name === undefined ? {} : { name: options.name }),
      });
      // A listener also keeps node-cron from warning on the console.
      this.#task.on('execution:missed', () => void this.#missed++);
    }
  }

  get ticks(): number {
    return this.#ticks;
  }

  get failures(): number {
    return this.#failures;
  }

  get missed(): number {
    return this.#missed;
  }

  get active(): boolean {
    return this.#end === undefined;
  }

  nextRun(): Date | null {
    if (this.#end !== undefined) return null;
    if (this.#task !== undefined) return this.#task.getNextRun();
    return new Date(this.#lastTickAt + this.#intervalMs);
  }

  cancel(): void {
    this.#finish('cancelled');
  }

  #tick(): void {
    if (this.#end !== undefined) return;
    this.#lastTickAt = Date.now();
    const ref = typeof this.#ref === 'string' ? this.#system.lookup(this.#ref) : this.#ref;
    const running = ref !== undefined && this.#system.hostOf(ref) !== undefined;
    try {
      if (ref === undefined) throw new ActorNotFoundError(JSON.stringify(this.#ref));
      // Sent even to a stopped target: the runtime turns it into a dead letter, so the miss is observable.
      const run = this.#system[kRunDetached];
      if (run === undefined) ref.tell(this.#msg);
      else run.call(this.#system, () => void ref.tell(this.#msg));
      this.#ticks++;
    } catch (error) {
      if ((error as { code?: unknown })?.code === 'TROUPE_ERR_SYSTEM_STOPPED') {
        this.#finish('system-stopped');
        return;
      }
      this.#failures++;
      this.#log?.warn({ schedule: this.#label, err: error }, 'scheduled tick not sent');
    }
    if (!running && this.#onStopped === 'stop') this.#finish('target-stopped');
  }

  #finish(end: ScheduleEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    clearInterval(this.#interval);
    void this.#task?.destroy();
    this.#offStopped();
    this.#log?.debug({ schedule: this.#label, end, ticks: this.#ticks }, 'schedule ended');
    this.#settle(end);
  }
}
