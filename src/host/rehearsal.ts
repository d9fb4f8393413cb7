/**
 * A spare worker's rehearsal of a takeover, run once while it waits.
 *
 * When a spare takes over a dead worker, it restarts every actor that worker
 * ran, in one burst. A fresh thread runs that burst on cold code: its first
 * hundreds of restarts run unoptimised, at ~4× the cost of a warm spawn, and
 * that was most of the time a worker with 1,000 actors took to serve again.
 * So the spare plays the whole scene beforehand, privately: a main-thread
 * host and a worker host of its own, on lanes and a directory of its own,
 * spawn actors, the worker host is abandoned, a second one takes its lanes
 * over, and the root supervisor restarts every actor there while asks wait
 * for them. The JIT learns the real code paths (lane decoding of restart
 * orders, starts, replies, events); nothing of the rehearsal is shared with
 * the system the spare will serve, and all of it is garbage afterwards.
 */
import { pino } from 'pino';
import type { ActorRef } from '../actor/ref.js';
import { Directory } from '../lane/directory.js';
import { kMaxSharedRestarts } from '../supervision/restart-window.js';
import { consumedTo } from '../lane/recovery.js';
import type { HostOptions } from '../options.js';
import { kEventBits } from './lifecycle-events.js';
import { Host, type HostInit, type MainDuties } from './host.js';
import { allocateSharedMemory } from './shared-memory.js';

const kActorUrl = new URL('./rehearsal-actor.js', import.meta.url);
/** A worker the size the recovery goal names; fewer actors, or one takeover, warmed the code measurably less. */
export const kRehearsedActors = 1000;
export const kRehearsedTakeovers = 2;
/** Time for the compilation the rehearsal queued to finish on V8's background threads (not observable from JS). */
export const kSettleAfterRehearsalMs = 100;
const kRehearsalTimeoutMs = 30_000;

const kQuietDuties: MainDuties = {
  onEvent: () => undefined,
  claimName: () => true,
  releaseName: () => undefined,
  escalated: () => undefined,
  moduleUsed: () => undefined,
};

/** Rehearses a takeover of a worker running `actors` actors, `rounds` times; resolves when it is over. */
export async function rehearseTakeover(systemOptions: HostOptions, actors: number, rounds: number, workersRestart: boolean): Promise<void> {
  // The system's lane size and pacing, so that the code paths warmed are its own; limits and
  // timeouts generous enough that the rehearsal of a takeover cannot fail where the real one would queue.
  const options: HostOptions = {
    ...systemOptions,
    overflowLimit: Math.max(systemOptions.overflowLimit, 4 * actors),
    overflowBytes: Math.max(systemOptions.overflowBytes, 4 * actors * 1024),
    mailboxLimit: Math.max(systemOptions.mailboxLimit, 4 * actors),
    askTimeoutMs: kRehearsalTimeoutMs,
    spawnTimeoutMs: kRehearsalTimeoutMs,
    shutdownTimeoutMs: kRehearsalTimeoutMs,
    logLevel: 'silent',
  };
  // A root whose window the worker shares if the system's does (its restarts then keep their args), or
  // one too large to share: the takeover's code is compiled for the branches the real one takes.
  const maxRestarts = workersRestart ? actors * (rounds + 1) : kMaxSharedRestarts + 1;
  const root = { strategy: 'one_for_one', maxRestarts, withinMs: 60_000, backoff: undefined } as const;
  const { lanes, hostBlocks, directory, rootRestarts } = allocateSharedMemory(2, options.laneBytes, root);
  // Events on: a takeover in a system that listens sends one per restart.
  new Directory(directory).eventInterest = Object.values(kEventBits).reduce((mask, bit) => mask | bit, 0);
  const logger = pino({ level: 'silent' });
  const init = (index: number): HostInit => ({ index, lanes, hostBlocks, directory, rootRestarts, options, freeSlots: [], logger });

  const main = new Host(init(0));
  main.attachMain(kQuietDuties, root);
  main.start();
  let worker = new Host(init(1));
  worker.start();
  const hosts = [main, worker];
  try {
    // Half with args, half without: a takeover's restarts of either kind then run on code that has seen both.
    const refs: ActorRef[] = await Promise.all(
      Array.from({ length: actors }, (_, i) => main.spawn(kActorUrl, i % 2 === 0 ? { host: 0 } : { host: 0, args: { rehearsal: i } }, 0)),
    );
    await Promise.all(refs.map((ref) => ref.ask('ping')));
    for (let round = 0; round < rounds; round++) {
      // The worker "dies": it stops reading, and a new host takes its lanes over.
      worker.close();
      main.hostDown(1, 'rehearsal', consumedTo(lanes[0][1]!));
      worker = new Host(init(1));
      hosts.push(worker);
      const answered = Promise.all(refs.map((ref) => ref.ask('ping')));
      // Should the next steps throw, closing the hosts rejects these asks: not an unhandled rejection.
      answered.catch(() => undefined);
      worker.start();
      main.childrenExitedRemotely(0, refs.map((ref) => ref.id), 'abnormal', 'rehearsal', performance.timeOrigin + performance.now());
      await answered;
    }
  } finally {
    for (const host of hosts) host.close();
  }
}
