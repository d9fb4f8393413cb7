import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, base64url } from 'jose';
import type { ActorRef, ActorSystem } from 'troupe';
import { createAuth, createGateway, hashApiKey, type Auth, type Gateway } from 'troupe/http';
import { fixture, startSystem } from './helpers.js';
import { captureLogs, request, type Answer } from './ops-helpers.js';

const secret = 'a test secret of more than thirty-two bytes, for HS256';
const pepper = 'pepper: sixteen bytes or more';
const issuer = 'https://id.test';
const audience = 'troupe-test';
const key = new TextEncoder().encode(secret);
const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A token made by hand, to forge what a client could send. */
function token(options: { alg?: string; typ?: string; iss?: string; aud?: string; iat?: number; exp?: number; role?: string; signWith?: Uint8Array } = {}): Promise<string> {
  const iat = options.iat ?? nowSec();
  return new SignJWT({ role: options.role ?? 'admin' })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: options.typ ?? 'at+jwt' })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setSubject('mallory')
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 600)
    .sign(options.signWith ?? key);
}

function unsecured(): string {
  const part = (value: object): string => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: issuer, aud: audience, sub: 'mallory', role: 'admin', iat: nowSec(), exp: nowSec() + 600 })}.`;
}

describe('gateway auth', () => {
  let system: ActorSystem;
  let gateway: Gateway;
  let auth: Auth;
  let service: ActorRef;
  let url: string;
  const logs = captureLogs();
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    system = await startSystem();
    service = await system.spawn(fixture('ops-service'), { name: 'service', host: 0 });
    await system.spawn(fixture('ops-service'), { name: 'spare', host: 1 });
    auth = createAuth({ jwt: { secret, issuer, audience }, pepper });
    for (const role of ['viewer', 'operator', 'admin']) keys[role] = auth.createApiKey(role, { subject: `${role}-bot` }).key;
    gateway = createGateway(system, { auth, logger: logs.logger, chaos: true });
    gateway
      .route({ method: 'GET', path: '/counter', actor: 'service', message: () => ({ type: 'get' }) })
      .route({ method: 'POST', path: '/inc', actor: 'service', message: () => ({ type: 'inc' }) })
      .route({ method: 'GET', path: '/public', actor: 'service', message: () => ({ type: 'get' }), permission: false });
    ({ url } = await gateway.listen());
  });

  afterAll(async () => {
    await gateway?.close();
    await system?.shutdown();
  });

  const bearer = (jwt: string): RequestInit => ({ headers: { authorization: `Bearer ${jwt}` } });
  const apiKey = (value: string): RequestInit => ({ headers: { 'x-api-key': value } });

  it('lets valid credentials through, by role', async () => {
    const { accessToken } = await auth.issueTokens('alice', 'operator');
    const inc = await request(`${url}/inc`, { method: 'POST', ...bearer(accessToken) });
    expect([inc.status, inc.json]).toEqual([200, { n: 1 }]);
    expect((await request(`${url}/counter`, apiKey(keys.viewer))).json).toMatchObject({ n: 1 });
    expect((await request(`${url}/metrics`, apiKey(keys.viewer))).status).toBe(200);
    expect((await request(`${url}/admin/hosts`, apiKey(keys.viewer))).status).toBe(200);
    expect((await request(`${url}/admin/actors/spare/stop`, { method: 'POST', ...apiKey(keys.operator) })).json).toMatchObject({ stopped: true });
    const line = logs.lines.find((l) => l.msg === 'request' && l.subject === 'alice');
    expect(line).toMatchObject({ role: 'operator', route: '/inc', status: 200 });
  });

  it('leaves /healthz, /readyz and routes marked open without credentials', async () => {
    for (const path of ['/healthz', '/readyz', '/public']) expect((await request(`${url}${path}`)).status).toBe(200);
  });

  it('refuses bad credentials with the right 4xx JSON, logs every refusal, and nothing reaches the actor', async () => {
    const before = (await service.ask({ type: 'seen' })) as number;
    const deniedBefore = logs.lines.filter((l) => l.msg === 'request denied').length;
    const { refreshToken } = await auth.issueTokens('alice', 'admin');
    const iat = nowSec() - 3600;
    const cases: [string, string, RequestInit, number, string, RegExp][] = [
      ['no credentials', '/counter', {}, 401, 'TROUPE_ERR_AUTH_MISSING', /credentials/],
      ['no credentials on /metrics', '/metrics', {}, 401, 'TROUPE_ERR_AUTH_MISSING', /credentials/],
      ['no credentials on admin', '/admin/hosts', {}, 401, 'TROUPE_ERR_AUTH_MISSING', /credentials/],
      ['expired token', '/counter', bearer(await token({ iat, exp: iat + 900 })), 401, 'TROUPE_ERR_AUTH_TOKEN_EXPIRED', /"exp"/],
      ['token older than the access lifetime', '/counter', bearer(await token({ iat, exp: nowSec() + 3600 })), 401, 'TROUPE_ERR_AUTH_TOKEN_EXPIRED', /"iat"/],
      ['forged signature', '/counter', bearer(await token({ signWith: new TextEncoder().encode('x'.repeat(40)) })), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /signature/],
      ['alg: none', '/counter', bearer(unsecured()), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /alg/],
      ['an algorithm not pinned', '/counter', bearer(await token({ alg: 'HS512' })), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /alg/],
      ['wrong audience', '/counter', bearer(await token({ aud: 'someone-else' })), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /"aud"/],
      ['wrong issuer', '/counter', bearer(await token({ iss: 'https://evil.test' })), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /"iss"/],
      ['a refresh token used as an access token', '/counter', bearer(refreshToken), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /typ/],
      ['not a bearer scheme', '/counter', { headers: { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' } }, 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /Bearer/],
      ['garbage token', '/counter', bearer('not.a.jwt'), 401, 'TROUPE_ERR_AUTH_INVALID_TOKEN', /ERR_JW/],
      ['unknown API key', '/counter', apiKey(`trp_nobody.${'A'.repeat(43)}`), 401, 'TROUPE_ERR_AUTH_INVALID_KEY', /unknown API key/],
      ['known id, wrong secret', '/counter', apiKey(keys.viewer.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`)), 401, 'TROUPE_ERR_AUTH_INVALID_KEY', /unknown API key/],
      ['malformed API key', '/counter', apiKey('hunter2'), 401, 'TROUPE_ERR_AUTH_INVALID_KEY', /malformed/],
      ['viewer writing', '/inc', { method: 'POST', ...apiKey(keys.viewer) }, 403, 'TROUPE_ERR_AUTH_FORBIDDEN', /routes:write/],
      ['viewer stopping an actor', '/admin/actors/service/stop', { method: 'POST', ...apiKey(keys.viewer) }, 403, 'TROUPE_ERR_AUTH_FORBIDDEN', /actors:stop/],
      ['operator injecting a fault', '/admin/workers/0/terminate', { method: 'POST', ...apiKey(keys.operator) }, 403, 'TROUPE_ERR_AUTH_FORBIDDEN', /chaos:inject/],
      ['a role the gateway does not know', '/counter', bearer(await token({ role: 'superuser' })), 403, 'TROUPE_ERR_AUTH_FORBIDDEN', /superuser/],
    ];
    const answers: Answer[] = [];
    for (const [what, path, init, status, code] of cases) {
      const answer = await request(`${url}${path}`, init);
      answers.push(answer);
      expect({ what, status: answer.status, code: answer.json?.error?.code }).toEqual({ what, status, code });
      if (status === 401 && !code.endsWith('INVALID_KEY')) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="troupe"/);
    }
    const denied = logs.lines.filter((l) => l.msg === 'request denied').slice(deniedBefore);
    expect(denied).toHaveLength(cases.length);
    for (const [i, [what, , , status, code, reason]] of cases.entries()) {
      expect({ what, status: denied[i].status, code: denied[i].code, level: denied[i].level }).toEqual({ what, status, code, level: 40 });
      expect(denied[i].correlationId).toBe(Number(answers[i].headers.get('x-correlation-id')));
      expect(denied[i].reason).toMatch(reason);
    }
    // the client is told less than the log: no verification detail in the body
    expect(answers[5].json.error.message).toBe('the bearer token is invalid');
    expect(await service.ask({ type: 'seen' })).toBe(before + 1);
  });

  it('refresh tokens: exchanged once for a new pair; a reused one revokes its family', async () => {
    const first = await auth.issueTokens('bob', 'viewer');
    const exchanged = await request(`${url}/auth/refresh`, { method: 'POST', json: { refreshToken: first.refreshToken } });
    expect(exchanged.status).toBe(200);
    expect(exchanged.json).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect((await request(`${url}/counter`, bearer(exchanged.json.accessToken))).status).toBe(200);
    const replay = await request(`${url}/auth/refresh`, { method: 'POST', json: { refreshToken: first.refreshToken } });
    expect([replay.status, replay.json.error.code]).toEqual([401, 'TROUPE_ERR_AUTH_INVALID_TOKEN']);
    // the thief or the owner holds the newer one: it dies with its family
    const newer = await request(`${url}/auth/refresh`, { method: 'POST', json: { refreshToken: exchanged.json.refreshToken } });
    expect(newer.status).toBe(401);
    const access = await request(`${url}/auth/refresh`, { method: 'POST', json: { refreshToken: first.accessToken } });
    expect(access.status).toBe(401);
    expect((await request(`${url}/auth/refresh`, { method: 'POST', json: {} })).status).toBe(401);
  });

  it('a verified token is remembered until it expires, not past it', async () => {
    let clock = Date.now();
    const timed = createAuth({ jwt: { secret, issuer, audience, accessTtlSec: 60, clockToleranceSec: 0 }, now: () => clock });
    const { accessToken } = await timed.issueTokens('carol', 'viewer');
    const headers = { authorization: `Bearer ${accessToken}` };
    expect(await timed.authenticate(headers)).toEqual({ subject: 'carol', role: 'viewer', via: 'jwt' });
    clock += 59_000;
    expect(await timed.authenticate(headers)).toMatchObject({ subject: 'carol' });
    clock += 1_000;
    await expect(timed.authenticate(headers)).rejects.toMatchObject({ status: 401, code: 'TROUPE_ERR_AUTH_TOKEN_EXPIRED' });
  });

  it('keeps API keys only as peppered hashes', () => {
    const stored = JSON.stringify(auth.apiKeys());
    for (const value of Object.values(keys)) {
      expect(stored).not.toContain(value.split('.')[1]);
      const id = value.slice(4, value.indexOf('.'));
      expect(auth.apiKeys().find((r) => r.id === id)?.hash).toBe(hashApiKey(value, pepper));
    }
    expect(hashApiKey(keys.viewer, `${pepper}!`)).not.toBe(hashApiKey(keys.viewer, pepper));
  });

  it('validates its options', () => {
    expect(() => createAuth({ jwt: { secret: 'short', issuer, audience } })).toThrow(/32 bytes/);
    expect(() => createAuth({ jwt: { secret, issuer, audience, algorithms: ['none' as never] } })).toThrow(/none/);
    expect(() => createAuth({ jwt: { secret, issuer: '', audience } })).toThrow(/issuer/);
    expect(() => createAuth({}).createApiKey('viewer')).toThrow(/pepper/);
    expect(() => createAuth({ pepper }).createApiKey('root')).toThrow(/role/);
    expect(() => createAuth({ pepper, apiKeys: [{ id: 'k', role: 'viewer', hash: 'plaintext' }] })).toThrow(/hash/);
  });
});
