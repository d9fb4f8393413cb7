/** The NATS subjects of one cluster: every name is a token checked by cluster-options.ts. */
export interface Subjects {
  /** Every node's heartbeats (and its goodbye). */
  heartbeats: string;
  /**
   * Frames of messages to one incarnation of `node`: one subscription per node, whatever the number
   * of its actors. Per incarnation, so a process that still holds a node's name after its successor
   * started (a rolling restart) never sees, let alone answers, what is meant for the successor.
   */
  frames(node: string, incarnation: number): string;
  /** Requests to `node`'s runtime: spawn, lookup. */
  control(node: string): string;
}

export function subjectsOf(cluster: string): Subjects {
  const prefix = `troupe.${cluster}`;
  return {
    heartbeats: `${prefix}.hb`,
    frames: (node, incarnation) => `${prefix}.n.${node}.${incarnation}`,
    control: (node) => `${prefix}.ctl.${node}`,
  };
}
