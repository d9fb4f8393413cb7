import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ActorRef, ActorSystem } from 'troupe';
import { createMetrics } from 'troupe/http';
import { actor, fixture, startSystem } from './helpers.js';
import { parseExposition, request, serve, sum } from './ops-helpers.js';

// CI installs Debian's prometheus package (.ci/run); elsewhere the check runs when promtool is there.
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

/** A gateway with POST /echo asking an echo actor on worker 0. */
async function echoGateway(system: ActorSystem): ReturnType<typeof serve> {
  const echo: ActorRef = await system.spawn(actor('echo'), { host: 0 });
  return serve(system, {}, (g) => g.route({ method: 'POST', path: '/echo', actor: echo, message: (r) => r.body ?? null }));
}

describe('Prometheus metrics', () => {
  it.runIf(hasPromtool || process.env.CI)('GET /metrics passes `promtool check metrics`', async () => {
    await using system = await startSystem();
    await using served = await echoGateway(system);
    const { url } = served;
    for (let i = 0; i < 3; i++) await request(`${url}/echo`, { method: 'POST', json: { i } });
    const scrape = await request(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: scrape.text, encoding: 'utf8' });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    // and a broken exposition is refused, so the check above means something
    const broken = spawnSync('promtool', ['check', 'metrics'], { input: scrape.text.replace(/^troupe_actors\{/m, 'troupe actors{'), encoding: 'utf8' });
    expect(broken.status).not.toBe(0);
  });

  it('follows the naming rules: troupe_ prefix, _total counters, histograms and no summaries, no actor labels', async () => {
    await using system = await startSystem();
    await using served = await echoGateway(system);
    const { url } = served;
    await request(`${url}/echo`, { method: 'POST', json: 1 });
    const { samples, types } = parseExposition((await request(`${url}/metrics`)).text);
    expect([...types.values()]).not.toContain('summary');
    const ours = [...types].filter(([name]) => name.startsWith('troupe_'));
    expect(ours.length).toBeGreaterThanOrEqual(25);
    for (const [name, type] of ours) {
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
    }
    expect(types.get('troupe_http_request_duration_seconds')).toBe('histogram');
    expect(types.get('troupe_gateway_ask_duration_seconds')).toBe('histogram');
    const labels = new Set(samples.filter((s) => s.name.startsWith('troupe_')).flatMap((s) => Object.keys(s.labels)));
    expect([...labels].sort()).toEqual(['code', 'from', 'host', 'le', 'method', 'outcome', 'route', 'to']);
    // every host has its series, every ordered pair of hosts its lane
    expect(samples.filter((s) => s.name === 'troupe_actors').map((s) => s.labels.host)).toEqual(['main', '0', '1']);
    expect(samples.filter((s) => s.name === 'troupe_lane_capacity_bytes')).toHaveLength(6);
    expect(sum(samples, 'troupe_workers')).toBe(2);
  });

  it('counts what the system and the gateway did', async () => {
    await using system = await startSystem();
    const crashy = await system.spawn(fixture('ops-service'), { host: 1 });
    await using served = await echoGateway(system);
    const { url } = served;
    for (let i = 0; i < 5; i++) expect((await request(`${url}/echo`, { method: 'POST', json: { i } })).status).toBe(200);
    expect((await request(`${url}/missing`)).status).toBe(404);
    const restarted = system.events.waitFor('actor.restarted', (e) => e.id === crashy.id);
    crashy.tell({ type: 'boom' });
    await restarted;
    const { samples } = parseExposition((await request(`${url}/metrics`)).text);
    const stats = system.stats();
    expect(sum(samples, 'troupe_http_request_duration_seconds_count', { method: 'POST', route: '/echo', code: '200' })).toBe(5);
    expect(sum(samples, 'troupe_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', code: '404' })).toBe(1);
    expect(sum(samples, 'troupe_gateway_ask_duration_seconds_count', { route: 'POST /echo', outcome: 'ok' })).toBe(5);
    expect(sum(samples, 'troupe_messages_received_total', { host: '0' })).toBeGreaterThanOrEqual(5);
    expect(sum(samples, 'troupe_actor_restarts_total', { host: '1' })).toBe(1);
    expect(sum(samples, 'troupe_actor_errors_total', { host: '1' })).toBe(1);
    expect(sum(samples, 'troupe_dead_letters_total')).toBe(stats.total.deadLetters);
    expect(stats.total.deadLetters).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'troupe_actors')).toBe(stats.total.actors);
    expect(sum(samples, 'troupe_worker_stalls_total')).toBe(0);
    // handler times, sampled in the hosts' shared HdrHistograms, as a native histogram per host
    expect(sum(samples, 'troupe_message_processing_seconds_bucket', { host: '0', le: '+Inf' })).toBe(stats.hosts[1].processingUs.count);
    expect(sum(samples, 'troupe_message_processing_seconds_count', { host: '0' })).toBe(stats.hosts[1].processingUs.count);
  });

  it('a standalone registry without default metrics, on a custom prefix', async () => {
    await using system = await startSystem({ workers: 1 });
    const metrics = createMetrics(system, { defaultMetrics: false, prefix: 'app_troupe_' });
    const { types } = parseExposition(await metrics.scrape());
    expect([...types.keys()].every((name) => name.startsWith('app_troupe_'))).toBe(true);
    expect(() => createMetrics(system, { prefix: 'bad prefix' })).toThrow(/prefix/);
    metrics.close();
  });
});
