/**
 * The gateway and its audit log, and the secrets of a whole run: a real
 * system with a store, the gateway's auth keyed from the secrets provider
 * (JWT secret, API key pepper), an LLM provider whose API key comes from it
 * too, an audit log signed with a key from it. Every kind of request an
 * operator and an attacker make goes through; the audit log names each
 * security-relevant one and verifies; then every secret (rotated ones
 * included) is looked for in the logs, the metrics, the system's events,
 * the error messages and answers, the live view's stream and the audit log.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SystemEvent } from 'troupe';
import { createAgents, openai } from 'troupe/agents';
import { createAuditLog, verifyAuditLog, type AuditEntry } from 'troupe/audit';
import { createAuth, createGateway } from 'troupe/http';
import { sqliteStore } from 'troupe/persistence';
import { createSecrets, fileSecrets } from 'troupe/secrets';
import { dir, server, startSystem, useLoopbackServer } from './agents-harness.js';
import { fixture } from './helpers.js';
import { captureLogs, request } from './ops-helpers.js';

useLoopbackServer('troupe-ops-audit-', 0);
const single = new URL('../dist/test/fixtures/workflows/single.js', import.meta.url);
const jwtOptions = { issuer: 'https://id.test', audience: 'troupe' };

/** A directory of secret files, each rewritten by `set` (a new file renamed over the old, as an atomic update). */
function secretDir(values: Record<string, string>): { path: string; set(name: string, value: string): void } {
  const path = join(dir, `secrets-${Math.random().toString(36).slice(2)}`);
  mkdirSync(path);
  const set = (name: string, value: string): void => {
    writeFileSync(join(path, `.${name}.tmp`), value);
    renameSync(join(path, `.${name}.tmp`), join(path, name));
  };
  for (const [name, value] of Object.entries(values)) set(name, value);
  return { path, set };
}

describe('gateway audit trail and secrets', () => {
  it('records denials and admin actions, verifies, and no secret appears anywhere a run leaves traces', async () => {
    const values = {
      'jwt-secret': 'jwt-one-7f3a9c1e5b2d4f6a8c0e1a3b5c7d9e1f',
      'api-key-pepper': 'pepper-2b4d6f8a0c1e3a5b7c9d',
      'openai-api-key': 'sk-provider-one-4c6e8a0b2d4f',
      'audit-key': 'audit-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
    };
    const files = secretDir(values);
    const secrets = createSecrets({ sources: [fileSecrets(files.path)], refreshMs: 0 });
    const auditPath = join(dir, 'gateway-audit.jsonl');
    const audit = createAuditLog({ path: auditPath, key: await secrets.get('audit-key'), checkpointEvery: 8 });
    const secretsWithAudit = createSecrets({ sources: [fileSecrets(files.path)], refreshMs: 0, audit });

    server.configure({ apiKey: values['openai-api-key'] });
    const system = await startSystem({ workers: 2, store: sqliteStore({ path: join(dir, 'gateway.db') }) });
    const events: SystemEvent[] = [];
    // Read as they come; the stream outlives the system (it waits for events that will not come), so it is not awaited.
    void (async () => {
      for await (const event of system.events.stream()) events.push(event);
    })();
    await system.spawn(fixture('ops-service'), { name: 'service', host: 0 });
    await system.spawn(fixture('ops-service'), { name: 'spare', host: 1 });

    const auth = createAuth({ jwt: { ...jwtOptions, secret: await secretsWithAudit.get('jwt-secret') }, pepper: await secretsWithAudit.get('api-key-pepper'), audit });
    await auth.watchJwtSecret(secretsWithAudit, 'jwt-secret');
    const logs = captureLogs('debug');
    const gateway = createGateway(system, { auth, audit, logger: logs.logger, chaos: true });
    gateway.route({ method: 'GET', path: '/counter', actor: 'service', message: () => ({ type: 'get' }) });
    const { url } = await gateway.listen();
    const agents = createAgents(system, { secrets: secretsWithAudit, providers: { gpt: openai({ model: 'gpt-4o-mini', apiKeySecret: 'openai-api-key', baseURL: server.openaiBaseURL, retry: { attempts: 1 } }) } });
    await agents.ready; // its providers and step runners are up before a worker is killed under them

    const answers: string[] = [];
    const call = async (path: string, init: RequestInit = {}) => {
      const answer = await request(`${url}${path}`, init);
      answers.push(JSON.stringify([...answer.headers]), answer.text);
      return answer;
    };
    const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });
    const admin = await auth.issueTokens('root', 'admin');
    const viewer = await auth.issueTokens('vic', 'viewer');
    const { key: apiKey } = auth.createApiKey('operator', { id: 'ops-bot', subject: 'ops-bot' });

    // The traffic: allowed, refused, admin actions, a refresh, a rotation of the JWT key and of the provider key.
    expect((await call('/counter', bearer(viewer.accessToken))).status).toBe(200);
    expect((await call('/counter', { headers: { 'x-api-key': apiKey } })).status).toBe(200);
    expect((await call('/counter', { headers: { 'x-api-key': `${apiKey.slice(0, -4)}AAAA` } })).status).toBe(401);
    expect((await call('/counter', bearer(`${viewer.accessToken.slice(0, -6)}xxxxxx`))).status).toBe(401);
    expect((await call('/counter')).status).toBe(401);
    expect((await call('/admin/actors/spare/stop', { method: 'POST', ...bearer(viewer.accessToken) })).status).toBe(403);
    expect((await call('/admin/actors/service/restart', { method: 'POST', ...bearer(admin.accessToken) })).status).toBe(200);
    expect((await call('/admin/actors/spare/stop', { method: 'POST', headers: { 'x-api-key': apiKey } })).status).toBe(200);
    expect((await call('/admin/actors/nobody/stop', { method: 'POST', ...bearer(admin.accessToken) })).status).toBe(404);
    expect((await call('/admin/workers/1/terminate', { method: 'POST', ...bearer(admin.accessToken) })).status).toBe(200);
    expect((await call('/metrics', bearer(admin.accessToken))).status).toBe(200);
    const refreshed = await call('/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: viewer.refreshToken }) });
    expect(refreshed.status).toBe(200);
    expect((await call('/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: viewer.refreshToken }) })).status).toBe(401);
    const run = await agents.start(single, { prompt: 'hello' });
    expect(await run.result()).toMatchObject({ only: { text: 're: hello' } });

    const rotated = { 'jwt-secret': 'jwt-two-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d', 'openai-api-key': 'sk-provider-two-9d7b5f3a1c' };
    server.configure({ apiKey: rotated['openai-api-key'] });
    for (const [name, value] of Object.entries(rotated)) files.set(name, value);
    expect((await secretsWithAudit.refresh()).sort()).toEqual(['jwt-secret', 'openai-api-key']);
    expect((await call('/counter', bearer(admin.accessToken))).status).toBe(200); // signed by the old key, inside its grace
    const after = await auth.issueTokens('root', 'admin');
    expect((await call('/counter', bearer(after.accessToken))).status).toBe(200);
    const second = await agents.start(single, { prompt: 'again' });
    expect(await second.result()).toMatchObject({ only: { text: 're: again' } });

    // A failure whose error travels back: the provider refuses a key it no longer knows.
    server.configure({ apiKey: 'sk-someone-else-entirely' });
    const refused = await agents.start(single, { prompt: 'refused' });
    const failure = await refused.result().then(() => undefined, (error: Error) => error);
    expect(failure).toBeDefined();
    const errorText = `${failure!.message} ${JSON.stringify(failure)} ${String((failure as { cause?: unknown }).cause)}`;

    // The live view's stream, as a viewer sees it.
    const controller = new AbortController();
    const stream = await fetch(`${url}/admin/ui/stream`, { ...bearer(after.accessToken), signal: controller.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let liveView = '';
    while (!liveView.includes('\n\n')) liveView += new TextDecoder().decode((await reader.read()).value);
    controller.abort();

    auth.revokeApiKey('ops-bot');
    await gateway.shutdown();
    await audit.close();

    // The audit log: each security-relevant request and change, in order, chained and signed to its end.
    expect(await verifyAuditLog(auditPath, values['audit-key'])).toMatchObject({ ok: true, unsignedTail: 0 });
    const entries = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    const of = (type: string) => entries.filter((e) => e.type === type);
    expect(of('auth.key.created')).toEqual([expect.objectContaining({ subject: 'ops-bot', detail: { role: 'operator', owner: 'ops-bot' } })]);
    expect(of('auth.failed').map((e) => e.detail!.code)).toEqual(['TROUPE_ERR_AUTH_INVALID_KEY', 'TROUPE_ERR_AUTH_INVALID_TOKEN', 'TROUPE_ERR_AUTH_MISSING', 'TROUPE_ERR_AUTH_INVALID_TOKEN']);
    expect(of('auth.failed').every((e) => e.subject !== undefined && typeof e.detail!.remote === 'string')).toBe(true);
    expect(of('auth.denied')).toEqual([expect.objectContaining({ actor: 'vic', subject: '/admin/actors/:name/stop', detail: expect.objectContaining({ role: 'viewer', code: 'TROUPE_ERR_AUTH_FORBIDDEN' }) })]);
    expect(of('admin.actor.restart')).toEqual([expect.objectContaining({ actor: 'root', subject: 'service', detail: expect.objectContaining({ outcome: 'done' }) })]);
    expect(of('admin.actor.stop')).toEqual([
      expect.objectContaining({ actor: 'ops-bot', subject: 'spare', detail: expect.objectContaining({ outcome: 'done', role: 'operator' }) }),
      expect.objectContaining({ actor: 'root', subject: 'nobody', detail: expect.objectContaining({ outcome: 'failed', code: 'TROUPE_ERR_ACTOR_NOT_FOUND' }) }),
    ]);
    expect(of('admin.chaos.terminate-worker')).toEqual([expect.objectContaining({ actor: 'root', subject: 'worker 1', detail: expect.objectContaining({ outcome: 'done', worker: 1 }) })]);
    expect(of('auth.jwt.rotated')).toEqual([expect.objectContaining({ actor: 'secrets:jwt-secret' })]);
    expect(of('secrets.rotated').map((e) => e.subject).sort()).toEqual(['jwt-secret', 'openai-api-key']);
    expect(of('auth.key.revoked')).toEqual([expect.objectContaining({ subject: 'ops-bot' })]);
    expect(of('admin.shutdown')).toHaveLength(1);

    // Every secret, every place.
    const places: Record<string, string> = {
      logs: JSON.stringify(logs.lines),
      metrics: answers.join('\n'),
      events: JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      errors: errorText,
      'live view': liveView,
      'audit log': readFileSync(auditPath, 'utf8'),
    };
    const secretValues = { ...values, ...Object.fromEntries(Object.entries(rotated).map(([k, v]) => [`${k} (rotated)`, v])), 'API key': apiKey, 'API key secret part': apiKey.split('.')[1], 'access token': admin.accessToken, 'refresh token': viewer.refreshToken, 'rotated access token': after.accessToken };
    const leaks = Object.entries(secretValues).flatMap(([name, value]) => Object.entries(places).filter(([, text]) => text.includes(value)).map(([place]) => `${name} in ${place}`));
    expect(leaks).toEqual([]);
    // Each place holds what it should, so finding nothing in it means something.
    expect(errorText).toMatch(/401/);
    expect(liveView).toMatch(/^(event: \w+\n)?data: \{/m);
    expect(places.metrics).toMatch(/troupe_/);
    expect(logs.lines.some((l) => l.msg === 'request denied')).toBe(true);
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(events.length).toBeGreaterThan(3);
    secrets.close();
    secretsWithAudit.close();
  }, 60_000);
});
