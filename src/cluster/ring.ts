/**
 * Placement of entity keys on the live nodes: a consistent-hash ring with
 * virtual points per node, as Orleans and Akka Cluster Sharding place
 * grains and shards. A node that joins or leaves moves only the keys of its
 * own arcs (about 1/N of them); every node that sees the same members
 * computes the same owner, with no coordination.
 */
const kPointsPerNode = 64;

/** FNV-1a, 32 bits, then a final mix (murmur3's fmix32): spread enough for placement, and the same in every process. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  readonly #points: number[] = [];
  readonly #owners: string[] = [];
  readonly nodes: readonly string[];

  constructor(nodes: Iterable<string>) {
    this.nodes = [...new Set(nodes)].sort();
    const points: [number, string][] = [];
    for (const node of this.nodes) for (let i = 0; i < kPointsPerNode; i++) points.push([hash32(`${node}#${i}`), node]);
    // Ties (two nodes on one point) are broken by name: the same order in every process.
    points.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [point, node] of points) {
      this.#points.push(point);
      this.#owners.push(node);
    }
  }

  /** The node that owns `key`: the first point at or after the key's hash, around the ring. */
  owner(key: string): string | undefined {
    if (this.#points.length === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === this.#points.length ? 0 : lo];
  }
}
