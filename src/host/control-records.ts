/**
 * What a host does with each kind of control record: every record that is
 * not a message (tell, ask). One entry per kind; a new record kind is one
 * entry here (and its number in codec/envelope.ts), nothing else.
 */
import { Kind, type SpawnSpec } from '../codec/envelope.js';
import { DecodeError, errorFromWire, type WireError } from '../errors.js';
import type { ActorId, Directory } from '../lane/directory.js';
import type { SystemEvent } from './lifecycle-events.js';
import type { Cell } from '../actor/cell.js';
import { now } from './clock.js';
import type { HostCounters } from './counters.js';
import type { DeadLetters } from './dead-letters.js';
import type { Definitions } from './definitions.js';
import type { MainDuties } from './main-duties.js';
import type { PendingTable } from './pending.js';
import type { Starting } from './starting.js';
import type { Stopping } from './stopping.js';
import type { SupervisionLink } from './supervision-link.js';
import type { Watches } from './watches.js';

/** The record in hand, as a handler reads it. */
export interface RecordIn {
  readonly kind: number;
  readonly target: number;
  readonly sender: number;
  readonly corr: number;
  /** The host that sent it (and awaits the answer, if any). */
  readonly src: number;
  /** Its payload; throws if it does not decode. */
  decode(): unknown;
  /** Its payload for reporting; undefined when empty or broken. */
  tryDecode(): unknown;
  /** A spawn or restart record's spec, or undefined after answering the requester with why not. */
  spawnSpec(intern: (text: string) => string): SpawnSpec | undefined;
}

/** What the handlers need of their host. */
export interface ControlHost {
  readonly index: number;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly pending: PendingTable;
  readonly counters: HostCounters;
  readonly main: MainDuties | undefined;
  readonly deadLetters: DeadLetters;
  readonly definitions: Definitions;
  readonly starting: Starting;
  readonly stopping: Stopping;
  readonly supervision: SupervisionLink;
  readonly watches: Watches;
  replyTo(host: number, corr: number, value: unknown): void;
  replyErrorTo(host: number, corr: number, error: unknown): void;
  detach(work: Promise<unknown>, what: string): void;
  crashNextMessage(id: number): boolean;
  requestRestart(id: number): boolean;
}

export type ControlRecordHandler = (host: ControlHost, record: RecordIn) => void;

function answer(host: ControlHost, record: RecordIn): void {
  const { corr, kind } = record;
  if (!host.pending.has(corr)) {
    host.deadLetters.report(0, 0, record.tryDecode(), 'reply-expired', undefined);
    return;
  }
  let value: unknown;
  try {
    value = record.decode();
  } catch (error) {
    host.counters.decodeErrors++;
    host.pending.reject(corr, error);
    return;
  }
  if (kind === Kind.reply) host.pending.resolve(corr, value);
  else host.pending.reject(corr, errorFromWire(value as WireError));
}

/** Handlers by record kind (Kind in codec/envelope.ts); tell and ask take the per-message path (inbound.ts). */
export const kControlRecords: Partial<Record<number, ControlRecordHandler>> = {
  [Kind.reply]: answer,
  [Kind.replyError]: answer,
  [Kind.spawn]: (host, record) => {
    const spec = record.spawnSpec(host.definitions.intern);
    if (spec !== undefined) host.detach(host.starting.startActor(record.target as ActorId, spec, record.corr, record.src, false), 'spawn');
  },
  [Kind.stop]: (host, record) => {
    const reason = record.tryDecode();
    const { src, corr } = record;
    host.stopping.stopLocal(record.target as ActorId, typeof reason === 'string' ? reason : 'stopped').then(
      () => host.replyTo(src, corr, null),
      (error: unknown) => host.replyErrorTo(src, corr, error),
    );
  },
  [Kind.passivate]: (host, record) => {
    const { src, corr } = record;
    host.stopping.passivateLocal(record.target as ActorId).then(
      (outcome) => host.replyTo(src, corr, outcome),
      (error: unknown) => host.replyErrorTo(src, corr, error),
    );
  },
  [Kind.watch]: (host, record) => {
    if (!host.watches.addWatcher(record.target, record.sender)) host.watches.sendGone(record.src, record.sender, record.target, { r: 'noproc' });
    host.replyTo(record.src, record.corr, null);
  },
  [Kind.unwatch]: (host, record) => host.watches.removeWatcher(record.target, record.sender),
  [Kind.childExit]: (host, record) => {
    const exit = record.tryDecode() as { k?: unknown; r?: unknown; t?: unknown } | undefined;
    if (exit === undefined || (exit.k !== 'normal' && exit.k !== 'abnormal' && exit.k !== 'stopped')) {
      host.counters.decodeErrors++;
      return;
    }
    host.supervision.childExited(record.target, record.sender, exit.k, String(exit.r), typeof exit.t === 'number' ? exit.t : now());
  },
  [Kind.restart]: (host, record) => {
    const spec = record.spawnSpec(host.definitions.intern);
    if (spec !== undefined) host.supervision.onDirective(Kind.restart, record.target as ActorId, spec, record.corr, record.src);
  },
  [Kind.halt]: (host, record) => host.supervision.onDirective(Kind.halt, record.target as ActorId, undefined, record.corr, record.src),
  [Kind.crashNext]: (host, record) => void host.crashNextMessage(record.target),
  [Kind.exitRequest]: (host, record) => void host.requestRestart(record.target),
  [Kind.gone]: (host, record) => {
    const notice = record.tryDecode() as { r?: unknown; n?: unknown } | undefined;
    host.watches.onGone(record.target, record.sender as ActorId, typeof notice?.n === 'string' ? notice.n : undefined, String(notice?.r ?? 'gone'));
  },
  [Kind.event]: (host, record) => {
    const event = record.tryDecode();
    if (host.index === 0 && event !== undefined) host.main!.onEvent(event as SystemEvent);
    else host.counters.eventsDropped++;
  },
  [Kind.claimName]: (host, record) => {
    const name = record.tryDecode();
    if (host.index !== 0 || typeof name !== 'string') {
      host.replyErrorTo(record.src, record.corr, new DecodeError('a name claim without a name'));
      return;
    }
    host.replyTo(record.src, record.corr, host.main!.claimName(name, record.target as ActorId));
  },
};
