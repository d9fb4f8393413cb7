import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/chaos/run.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'troupe-chaos-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function chaos(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run chaos (the CLI, as a child process)', () => {
  it.each([
    [[], /say what to run/],
    [['--scenario', 'no-such-scenario'], /unknown scenario "no-such-scenario"; known: .*partition-halves/],
    [['--scenario', 'baseline', '--seed', 'abc'], /--seed must be a whole number/],
    [['--scenario', 'baseline', '--seed', '99999999999'], /--seed must be a whole number/],
    [['--scenario', 'baseline', '--duration', '10parsecs'], /--duration must be a duration/],
    [['--scenario', 'baseline', '--duration', '0s'], /--duration must be from 1s to 24h/],
    [['--scenario', 'partition-halves', '--workers', '1'], /names host 1, which a system of 1 worker does not have/],
    [['--scenario', 'worker-kill', '--workers', '0'], /--workers must be a whole number from 1/],
    [['--all', '--soak'], /choose one of/],
    [['--scenario', './no/such/scenario.mjs'], /no scenario file at "\.\/no\/such\/scenario\.mjs"/],
    [['--scenario', 'package.json/x.mjs'], /no scenario file at/],
    [['--scenario', 'baseline', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['--soak', '--cron', 'every tuesday'], /--cron is not a valid node-cron expression/],
    [['--scenario', 'baseline', '--seeds', '0'], /--seeds must be a whole number from 1/],
    [['--scenario', 'baseline', '--seed-range', '9..3'], /--seed-range must run from a seed to a later one/],
    [['--scenario', 'baseline', '--seed-range', '1-3'], /--seed-range must be two seeds such as 1\.\.20/],
    [['--scenario', 'baseline', '--seed-range', '1..3', '--seeds', '2'], /--seed-range names its seeds/],
    [['--soak', '--seeds', '2'], /--soak runs one seed/],
  ])('bad input %j: a clear message, exit code 2, no stack trace', (args, message) => {
    const { code, stdout, stderr } = chaos(...args, '--out', out);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^troupe chaos: /);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });

  it('--list names every scenario, at least 20', () => {
    const { code, stdout } = chaos('--list');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').length).toBeGreaterThanOrEqual(20);
  });

  it('a run writes history.jsonl, summary.json and report.html, and replays from its seed', { timeout: 120_000 }, () => {
    const { code, stdout } = chaos('--scenario', 'link-drop', '--seed', '3', '--duration', '1500ms', '--out', out);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/PASS +link-drop/);
    const dir = join(out, readdirSync(out).find((d) => d.includes('link-drop'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ scenario: 'link-drop', seed: 3, pass: true, outcome: 'pass', replay: 'npm run chaos -- --scenario link-drop --seed 3 --duration 1500ms' });
    expect(summary.ledger.totals.reliable).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', scenario: 'link-drop', seed: 3, faults: [{ label: 'link *→* drop 10%' }] });
    expect(lines.at(-1)).toMatchObject({ type: 'end', drained: true });
    expect(lines.some((l) => l.type === 'fault' && l.action === 'heal')).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<svg/);
  });

  it('a failing run still writes its history and says how to replay it', { timeout: 120_000 }, () => {
    // A scenario file of the user's own that really fails: worker 1 stalls for
    // good and the stall detector would only notice after ten minutes, so the
    // reliable channels into and out of it cannot drain.
    const file = join(out, 'stalled-for-good.mjs');
    writeFileSync(
      file,
      `export default {
        name: 'stalled-for-good',
        description: 'a worker stalls, and nothing replaces it within the run',
        system: { stallTimeoutMs: 600000 },
        faults: [{ at: '30%', do: { kind: 'stall-worker', worker: 1 } }],
      };\n`,
    );
    const { code, stdout } = chaos('--scenario', file, '--seed', '5', '--duration', '1500ms', '--quick', '--out', out);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/FAIL +stalled-for-good/);
    expect(stdout).toMatch(/did not drain/);
    expect(stdout).toContain(`replay: npm run chaos -- --scenario ${file} --seed 5 --duration 1500ms`);
    const dir = join(out, readdirSync(out).find((d) => d.includes('stalled-for-good-s5'))!);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ pass: false, outcome: 'fail', drained: false });
    expect(existsSync(join(dir, 'history.jsonl'))).toBe(true);
    const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'run', seed: 5 });
    expect(lines.filter((l) => l.type === 'send').length).toBeGreaterThan(100);
  });

  it('--seeds N runs each seed and writes the totals per seed and overall (seeds.json, seeds.md)', { timeout: 120_000 }, () => {
    const { code, stdout } = chaos('--scenario', 'link-drop', '--seed', '7', '--seeds', '2', '--duration', '1500ms', '--out', out);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/— seed 7 \(1\/2\) —[\s\S]*PASS +link-drop[\s\S]*— seed 8 \(2\/2\) —[\s\S]*PASS +link-drop/);
    expect(stdout).toMatch(/2 seeds × 1 scenarios: 2\/2 runs passed/);
    const root = join(out, readdirSync(out).find((d) => d.includes('-seeds-7-8-link-drop'))!);
    const totals = JSON.parse(readFileSync(join(root, 'seeds.json'), 'utf8'));
    expect(totals).toMatchObject({ seeds: [7, 8], scenarios: ['link-drop'], pass: true, failures: [] });
    expect(totals.perSeed.map((s: { seed: number; runs: number }) => [s.seed, s.runs])).toEqual([[7, 1], [8, 1]]);
    // the totals are the sums of the seeds', and of each run's own summary
    const runs = [7, 8].map((seed) => {
      const dir = join(root, `s${seed}`, readdirSync(join(root, `s${seed}`))[0]);
      // a passing run leaves its history out (its seed replays it)
      expect(existsSync(join(dir, 'history.jsonl'))).toBe(false);
      return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    });
    const amo = runs.map((r) => r.ledger.totals['at-most-once']);
    expect(totals.totals.atMostOnce).toEqual({
      attempted: amo[0].attempted + amo[1].attempted,
      lost: amo[0].lost + amo[1].lost,
      reported: amo[0].reported + amo[1].reported,
      unreported: 0,
      duplicated: amo[0].duplicated + amo[1].duplicated,
      corruptDelivered: 0,
    });
    // a dropping link loses at-most-once messages, and each is reported as a dead letter
    expect(totals.totals.atMostOnce.lost).toBeGreaterThan(0);
    expect(totals.totals.atMostOnce.reported).toBe(totals.totals.atMostOnce.lost);
    expect(totals.totals.reliable).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(totals.totals.reliable.attempted).toBe(runs[0].ledger.totals.reliable.attempted + runs[1].ledger.totals.reliable.attempted);
    const md = readFileSync(join(root, 'seeds.md'), 'utf8');
    expect(md).toMatch(/seeds 7\.\.8/);
    expect(md).toMatch(/^\| 7 \| 1\/1 \|/m);
    expect(md).toMatch(/^\| \*\*all\*\* \| 2\/2 \|/m);
  });

  it('--seed-range: a failing run of any seed fails the whole (exit code 1) and is listed with its replay command', { timeout: 120_000 }, () => {
    // XPASS is a failure: a scenario that names a known issue yet passes
    const file = join(out, 'claims-an-issue.mjs');
    writeFileSync(file, `export default { name: 'claims-an-issue', description: 'no fault, a known issue that is not there', knownIssue: 'none', faults: [] };\n`);
    const { code, stdout } = chaos('--scenario', file, '--seed-range', '4..5', '--duration', '1s', '--out', out);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/0\/2 runs passed/);
    expect(stdout).toContain(`FAIL seed 4 claims-an-issue`);
    expect(stdout).toContain(`replay: npm run chaos -- --scenario ${file} --seed 5 --duration 1000ms`);
    const root = join(out, readdirSync(out).find((d) => d.includes('-seeds-4-5-claims-an-issue'))!);
    const totals = JSON.parse(readFileSync(join(root, 'seeds.json'), 'utf8'));
    expect(totals).toMatchObject({ seeds: [4, 5], pass: false });
    expect(totals.failures.map((f: { seed: number; outcome: string }) => [f.seed, f.outcome])).toEqual([[4, 'xpass'], [5, 'xpass']]);
    expect(readFileSync(join(root, 'seeds.md'), 'utf8')).toMatch(/## Failures[\s\S]*seed 5, claims-an-issue \(xpass\)/);
    // a failing run keeps its history
    const dir = join(root, 's4', readdirSync(join(root, 's4'))[0]);
    expect(existsSync(join(dir, 'history.jsonl'))).toBe(true);
  });
});
