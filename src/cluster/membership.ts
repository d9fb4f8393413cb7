/**
 * Who is in the cluster, from heartbeats: a suspicion count by silence. A
 * node that has not been heard for `suspectAfterMs` is `unreachable` (nothing
 * fails yet: a long GC pause or a busy link heals); for `downAfterMs` it is
 * `down`, and that incarnation is gone for good: a later heartbeat from it is
 * ignored, and the node rejoins only as a new incarnation (a restart), as an
 * Erlang node that reconnects gets new pids. Pure logic, fed the clock, so the
 * timing is tested without timers.
 */
export type MemberState = 'up' | 'unreachable' | 'down';

export interface Member {
  node: string;
  incarnation: number;
  state: MemberState;
  /** When it was last heard (ms, the detector's clock). */
  lastHeard: number;
}

export type MemberEvent =
  | { type: 'nodeUp'; node: string; incarnation: number }
  | { type: 'nodeUnreachable'; node: string; incarnation: number; silentMs: number }
  | { type: 'nodeReachable'; node: string; incarnation: number }
  | { type: 'nodeDown'; node: string; incarnation: number; reason: 'silent' | 'left' | 'restarted' };

export interface DetectorTiming {
  suspectAfterMs: number;
  downAfterMs: number;
}

export class Membership {
  readonly #timing: DetectorTiming;
  readonly #self: string;
  readonly #members = new Map<string, Member>();
  /** Incarnations declared down, per node: their late heartbeats must not bring them back. */
  readonly #gone = new Map<string, Set<number>>();

  constructor(self: string, timing: DetectorTiming) {
    this.#self = self;
    this.#timing = timing;
  }

  /** A heartbeat arrived; returns what it changed. */
  heard(node: string, incarnation: number, leaving: boolean, now: number): MemberEvent[] {
    if (node === this.#self) return [];
    if (this.#gone.get(node)?.has(incarnation) === true) return [];
    const events: MemberEvent[] = [];
    const known = this.#members.get(node);
    if (known !== undefined && known.incarnation !== incarnation) {
      events.push(this.#down(known, 'restarted'));
    }
    if (leaving) {
      const member = known !== undefined && known.incarnation === incarnation ? known : { node, incarnation, state: 'up' as const, lastHeard: now };
      events.push(this.#down(member, 'left'));
      return events;
    }
    const current = this.#members.get(node);
    if (current === undefined) {
      this.#members.set(node, { node, incarnation, state: 'up', lastHeard: now });
      events.push({ type: 'nodeUp', node, incarnation });
      return events;
    }
    current.lastHeard = now;
    if (current.state === 'unreachable') {
      current.state = 'up';
      events.push({ type: 'nodeReachable', node, incarnation });
    }
    return events;
  }

  /** The clock moved on: nodes silent too long become unreachable, then down. */
  tick(now: number): MemberEvent[] {
    const events: MemberEvent[] = [];
    for (const member of [...this.#members.values()]) {
      const silentMs = now - member.lastHeard;
      if (silentMs >= this.#timing.downAfterMs) events.push(this.#down(member, 'silent'));
      else if (silentMs >= this.#timing.suspectAfterMs && member.state === 'up') {
        member.state = 'unreachable';
        events.push({ type: 'nodeUnreachable', node: member.node, incarnation: member.incarnation, silentMs });
      }
    }
    return events;
  }

  members(): Member[] {
    return [...this.#members.values()].map((m) => ({ ...m }));
  }

  #down(member: Member, reason: 'silent' | 'left' | 'restarted'): MemberEvent {
    this.#members.delete(member.node);
    let gone = this.#gone.get(member.node);
    if (gone === undefined) this.#gone.set(member.node, (gone = new Set()));
    gone.add(member.incarnation);
    return { type: 'nodeDown', node: member.node, incarnation: member.incarnation, reason };
  }
}
