/**
 * Dead letters: messages that reached nobody, reported as `deadLetter`
 * events (to main's listeners) and, on a worker, on the `troupe:deadLetter`
 * diagnostics channel of its own thread, with the message itself. An ask
 * that becomes one is answered with the error at once.
 */
import { untraced } from '../codec/trace-context.js';
import { channel } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import type { HostName } from '../actor/context.js';
import { Kind, kindOf } from '../codec/envelope.js';
import { ActorNotFoundError, ActorStoppedError, ChaosFaultError, type WireError } from '../errors.js';
import type { ActorId } from '../lane/directory.js';
import type { DeadLetterEvent, SystemEvent, SystemEventType } from './lifecycle-events.js';
import { now } from './clock.js';
import type { HostCounters } from './counters.js';
import { hostNameOf } from './host-name.js';
import type { PendingTable } from './pending.js';

/** What reporting dead letters needs of its host. */
export interface DeadLettersHost {
  readonly index: number;
  readonly hostName: HostName;
  readonly log: Logger;
  readonly counters: HostCounters;
  readonly pending: PendingTable;
  wants(type: SystemEventType): boolean;
  emit(event: SystemEvent): void;
  replyErrorTo(host: number, corr: number, error: unknown): void;
}

/** `troupe:deadLetter` on this thread (diagnostics_channel is per thread): a worker publishes its own dead letters there. */
const kDeadLetterChannel = channel('troupe:deadLetter');

export class DeadLetters {
  readonly #host: DeadLettersHost;

  constructor(host: DeadLettersHost) {
    this.#host = host;
  }

  /** A message that reached nobody: a dead letter, and an error reply if someone awaits it. */
  undeliverable(kind: number, target: number, sender: number, corr: number, trace: number, msg: unknown, reason: string, replyHost = this.#host.index): void {
    if (kind === Kind.ask) {
      const error = reason === 'no-actor' ? new ActorNotFoundError(`#${target}`) : new ActorStoppedError(`#${target}`, reason);
      this.#host.replyErrorTo(replyHost, corr, error);
    }
    this.report(target, sender, msg, reason, undefined, trace);
  }

  report(target: number, sender: number, msg: unknown, reason: string, error: WireError | undefined, trace = 0, count = 1): void {
    const host = this.#host;
    host.counters.deadLetters += count;
    if (host.log.isLevelEnabled('debug')) host.log.debug({ target, sender, reason, count, correlationId: trace === 0 ? undefined : trace }, 'dead letter');
    // A worker's own subscribers to `troupe:deadLetter` hear of its dead letters
    // at once, on its thread, with the message itself: nothing a lane fault or a
    // busy main thread can lose (the chaos checker counts losses through it).
    const local = host.index !== 0 && kDeadLetterChannel.hasSubscribers;
    const wanted = host.wants('deadLetter');
    if (!local && !wanted) return;
    const event: DeadLetterEvent = { type: 'deadLetter', at: now(), host: host.hostName, target: target as ActorId, reason };
    if (sender !== 0) event.sender = sender as ActorId;
    if (trace !== 0) event.correlationId = trace;
    // A message queued with its trace context is reported as it was sent.
    if (msg !== undefined) event.message = untraced(msg);
    if (error !== undefined) event.error = error;
    if (count !== 1) event.count = count;
    if (local) kDeadLetterChannel.publish(event);
    if (wanted) host.emit(event);
  }

  /** Main reports a dead worker's mailboxes: `count` messages that were queued for `target` (see MailboxShadow). */
  reportLostMailbox(fromHost: number, target: number, count: number): void {
    const host = this.#host;
    host.counters.deadLetters += count;
    if (!host.wants('deadLetter')) return;
    host.emit({ type: 'deadLetter', at: now(), host: hostNameOf(fromHost), target: target as ActorId, reason: 'worker-exited', count });
  }

  /** The fault layer knows what it lost: a message it drops is reported like any other that reaches nobody (control records are not messages). */
  lostToFault(kindWord: number, target: number, sender: number, corr: number, trace: number, msg: unknown, awaitsReply: boolean): void {
    const kind = kindOf(kindWord);
    if (kind === Kind.tell || kind === Kind.ask) this.report(target, sender, msg, 'link-fault', undefined, trace);
    // An ask that becomes a dead letter is rejected at once, as anywhere else.
    if (kind === Kind.ask && awaitsReply) this.#host.pending.reject(corr, new ChaosFaultError(`ask to #${target} dropped by an injected link fault`));
  }
}
