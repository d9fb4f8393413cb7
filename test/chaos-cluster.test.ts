/**
 * Cluster scenarios: the scenario checks, and one real run through the chaos
 * CLI: three node processes over a real nats-server and a real PostgreSQL
 * journal, one node cut off from NATS past the detector's down time, its
 * entities moved to the others and back after its restart; the verdict read
 * from the journal by a fresh process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isClusterScenario, isProcessScenario, resolveCluster, resolveScenario, UsageError, type Scenario } from '../chaos/scenario.js';

const cli = fileURLToPath(new URL('../dist/chaos/run.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'troupe-chaos-cluster-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cluster scenarios', () => {
  const base: Scenario = { name: 'c', description: '', faults: [{ at: '50%', do: { kind: 'kill-node', node: 'random-node' } }] };

  it('are told apart by their faults, with the workload defaults filled in', () => {
    expect(isClusterScenario(base)).toBe(true);
    expect(isProcessScenario(base)).toBe(false);
    expect(resolveCluster(base)).toEqual({ nodes: 3, workers: 1, ledgers: 24, inflight: 2, natsServers: 1 });
    expect(resolveCluster({ ...base, faults: [{ at: '1s', do: { kind: 'kill-worker', worker: 0 } }], cluster: undefined })).toBeUndefined();
  });

  it("draw a random node from the seed, never the front (node 0), and the same one for the same seed", () => {
    const drawn = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const [fault] = resolveScenario({ ...base, cluster: { nodes: 4 } }, { seed, durationMs: 4000 }).faults;
      const node = (fault!.action as { node: number }).node;
      expect(node).toBeGreaterThanOrEqual(1);
      expect(node).toBeLessThanOrEqual(3);
      drawn.add(node);
      expect(resolveScenario({ ...base, cluster: { nodes: 4 } }, { seed, durationMs: 4000 }).faults[0]!.action).toEqual(fault!.action);
    }
    expect(drawn.size).toBe(3);
  });

  it('refuse the front as a target, a node the cluster does not have, kill-nats on one server, and other faults beside theirs', () => {
    const resolve = (s: Scenario) => () => resolveScenario(s, { seed: 1, durationMs: 4000 });
    expect(resolve({ ...base, faults: [{ at: '10%', do: { kind: 'isolate-node', node: 0 } }] })).toThrow(/node 0 is the front/);
    expect(resolve({ ...base, faults: [{ at: '10%', do: { kind: 'kill-node', node: 3 } }] })).toThrow(/from 1 to 2/);
    expect(resolve({ ...base, faults: [{ at: '10%', do: { kind: 'kill-nats', server: 0 } }] })).toThrow(/needs cluster.natsServers: 3/);
    expect(resolve({ ...base, cluster: { natsServers: 3 }, faults: [{ at: '10%', do: { kind: 'kill-nats', server: 3 } }] })).toThrow(/from 0 to 2/);
    expect(resolve({ ...base, faults: [...base.faults, { at: '10%', do: { kind: 'kill-process' } }] })).toThrow(/cluster scenario's faults/);
    expect(resolve({ ...base, cluster: { nodes: 1 } })).toThrow(UsageError);
    expect(resolve({ ...base, cluster: { natsServers: 2 as 3 } })).toThrow(/natsServers must be 1 or 3/);
  });
});

describe('npm run chaos -- --scenario cluster-partition-node (real nodes, nats-server and PostgreSQL)', () => {
  it('a node cut off past the down time: declared down, its entities answer from the others, it rejoins after a restart; every acknowledged append survives once, in order', { timeout: 120_000 }, () => {
    const result = spawnSync(process.execPath, [cli, '--scenario', 'cluster-partition-node', '--seed', '3', '--duration', '5s', '--out', out], { encoding: 'utf8', timeout: 110_000 });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PASS +cluster-partition-node +\| durable: lost 0 dup 0 ooo 0/);
    const dir = join(out, readdirSync(out).find((d) => d.includes('cluster-partition-node'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.ledger.totals.reliable.acknowledged).toBeGreaterThan(100);
    expect(summary.cluster.faults).toHaveLength(1);
    const [fault] = summary.cluster.faults;
    // 3 s cut off against the default 2 s down time: declared down, restarted after the heal, seen up again.
    expect(fault).toMatchObject({ kind: 'isolate-node', declaredDown: true });
    expect(fault.rejoinMs).toBeGreaterThan(3000);
    expect(fault.allAnsweredMs).toBeGreaterThan(0);
    expect(summary.cluster.events.nodeDown).toBeGreaterThanOrEqual(1);
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const target = fault.target as string;
    // The target node started twice (first, after the heal); the verifier read the journal.
    expect(lines.filter((l) => l.event === 'node.started' && l.node === target)).toHaveLength(2);
    expect(lines.filter((l) => l.event === 'node.started' && l.role === 'verifier')).toHaveLength(1);
    expect(lines.find((l) => l.event === 'front.nodeDown' && l.node === target)).toMatchObject({ reason: 'silent' });
  });
});
