/**
 * Fault injection on a host (troupe/chaos): crash an actor's next message,
 * or have its supervisor restart it as if it had failed. Each travels as a
 * record to the actor's host, so it lands in order with the messages sent
 * after it.
 */
import type { Cell } from '../actor/cell.js';
import { Kind } from '../codec/envelope.js';
import type { Directory } from '../lane/directory.js';
import type { ExitKind } from '../supervision/strategy.js';
import type { Outbound } from './outbound.js';

/** What fault injection needs of its host. */
export interface FaultInjectionHost {
  readonly index: number;
  readonly directory: Directory;
  readonly cells: Map<number, Cell>;
  readonly out: Outbound;
  readonly stopping: { exit(cell: Cell, kind: ExitKind, reason: string): Promise<void> };
  detach(work: Promise<unknown>, what: string): void;
}

/** The next message `id` handles throws instead. */
export function crashNextMessage(host: FaultInjectionHost, id: number): boolean {
  const where = host.directory.hostOf(id);
  if (where < 0) return false;
  if (where !== host.index) {
    host.out.sendEmpty(where, Kind.crashNext, id, 0, 0, false);
    return true;
  }
  const cell = host.cells.get(id);
  if (cell === undefined || cell.status === 'stopped') return false;
  cell.crashNext = true;
  return true;
}

/**
 * Asks an actor's supervisor to restart it, as if it had failed: it halts
 * after its current message and its supervisor applies its strategy (and
 * counts the restart against its intensity).
 */
export function requestRestart(host: FaultInjectionHost, id: number): boolean {
  const where = host.directory.hostOf(id);
  if (where < 0) return false;
  if (where !== host.index) {
    host.out.sendEmpty(where, Kind.exitRequest, id, 0, 0, false);
    return true;
  }
  const cell = host.cells.get(id);
  if (cell === undefined || cell.status !== 'running') return false;
  host.detach(host.stopping.exit(cell, 'abnormal', 'restart-requested'), 'exit');
  return true;
}
