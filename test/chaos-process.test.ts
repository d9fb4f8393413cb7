/**
 * Process scenarios: the checker of durable ledgers, the scenario checks,
 * and one real run of process-kill (the system in a child process, SIGKILLed
 * and restarted on its SQLite journal) through the chaos CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLedgers, type ClientLedger } from '../chaos/process/checker.js';
import { isProcessScenario, resolveScenario, UsageError } from '../chaos/scenario.js';

const cli = fileURLToPath(new URL('../dist/chaos/run.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'troupe-chaos-process-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const ledger = (sent: number[], acked: number[], indeterminate: number[] = [], failed: number[] = []): ClientLedger => ({
  sent,
  acked: new Set(acked),
  failed: new Set(failed),
  indeterminate: new Set(indeterminate),
});

describe('process scenario checker', () => {
  it('passes a journal holding every acknowledged append once, in order, with some indeterminate ones', () => {
    const result = checkLedgers([ledger([1, 2, 3, 4, 5], [1, 2, 3], [4, 5]), ledger([1, 2], [1, 2])], [[1, 2, 3, 4], [1, 2]]);
    expect(result.reliableOk).toBe(true);
    expect(result.totals.reliable).toMatchObject({ attempted: 7, acknowledged: 5, received: 6, indeterminate: 2, lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 });
  });

  it('an acknowledged append missing from the journal is lost; so is one a live process never answered', () => {
    const result = checkLedgers([ledger([1, 2, 3, 4], [1, 2, 3])], [[1, 3]]);
    expect(result.reliableOk).toBe(false);
    expect(result.totals.reliable.lost).toBe(2);
    expect(result.pairs[0]!.lostSample).toEqual([2, 4]);
  });

  it('a refused append (a typed error) may be missing; a duplicate, a reordering and a number never sent fail', () => {
    expect(checkLedgers([ledger([1, 2], [1], [], [2])], [[1]]).reliableOk).toBe(true);
    const result = checkLedgers([ledger([1, 2, 3, 4], [1, 2, 3, 4])], [[1, 2, 2, 3, 9, 4]]);
    // The repeated 2 is one duplicate, not also a reordering; 4 after 9 is one.
    expect(result.totals.reliable).toMatchObject({ duplicated: 1, outOfOrder: 1, unexpected: 1, lost: 0 });
    expect(result.reliableOk).toBe(false);
  });

  it('a process scenario has only kill-process faults and a valid workload', () => {
    const base = { name: 'p', description: '', faults: [{ at: '50%', do: { kind: 'kill-process' as const } }] };
    expect(isProcessScenario(base)).toBe(true);
    expect(resolveScenario(base, { seed: 1, durationMs: 2000 }).faults).toMatchObject([{ at: 1000, label: 'SIGKILL the process' }]);
    expect(() => resolveScenario({ ...base, faults: [...base.faults, { at: '10%', do: { kind: 'kill-worker', worker: 0 } }] }, { seed: 1, durationMs: 2000 })).toThrow(/faults are all kill-process/);
    expect(() => resolveScenario({ ...base, process: { ledgers: 0 } }, { seed: 1, durationMs: 2000 })).toThrow(UsageError);
    expect(() => resolveScenario({ ...base, process: { activation: 'lazy' as 'entity' } }, { seed: 1, durationMs: 2000 })).toThrow(/activation must be/);
  });
});

describe('npm run chaos -- --scenario process-kill (a real child process, SIGKILLed)', () => {
  it('every acknowledged append survives two SIGKILLs, once, in order; recovery is measured', { timeout: 120_000 }, () => {
    const result = spawnSync(process.execPath, [cli, '--scenario', 'process-kill', '--seed', '4', '--duration', '2s', '--out', out], { encoding: 'utf8', timeout: 110_000 });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PASS +process-kill +\| durable: lost 0 dup 0 ooo 0/);
    const dir = join(out, readdirSync(out).find((d) => d.includes('process-kill'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.ledger.totals.reliable.acknowledged).toBeGreaterThan(100);
    expect(summary.process.kills).toHaveLength(2);
    for (const kill of summary.process.kills) {
      expect(kill.restartMs).toBeGreaterThan(0);
      expect(kill.firstAnswerMs).toBeGreaterThanOrEqual(kill.restartMs);
    }
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', scenario: 'process-kill', activation: 'spawn' });
    expect(lines.filter((l) => l.type === 'fault')).toHaveLength(2);
    expect(lines.filter((l) => l.event === 'process.started')).toHaveLength(4); // first, two restarts, the verifier
    // A passing run leaves no journal behind.
    expect(existsSync(join(dir, 'journal.db'))).toBe(false);
  });
});
