/** The NATS subjects of one cluster: every name is a token checked by cluster-options.ts. */
export interface Subjects {
  /** Every node's heartbeats (and its goodbye). */
  heartbeats: string;
  /** Frames of messages to `node`: one subscription per node, whatever the number of its actors. */
  frames(node: string): string;
  /** Requests to `node`'s runtime: spawn, lookup. */
  control(node: string): string;
}

export function subjectsOf(cluster: string): Subjects {
  const prefix = `troupe.${cluster}`;
  return {
    heartbeats: `${prefix}.hb`,
    frames: (node) => `${prefix}.n.${node}`,
    control: (node) => `${prefix}.ctl.${node}`,
  };
}
