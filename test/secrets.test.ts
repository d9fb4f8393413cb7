/**
 * The secrets provider: environment, mounted files (rotated the way
 * Kubernetes does it, by swapping a symlink), the application's own
 * function; typed errors that never carry a value; rotation handed to its
 * watchers and recorded in the audit log; redaction of logs; a JWT signing
 * key rotated by kid with a grace period; a provider's API key rotated
 * under a loopback LLM server that refuses the old one.
 */
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgents, openai } from 'troupe/agents';
import { createAuditLog, type AuditEntry } from 'troupe/audit';
import { createAuth } from 'troupe/http';
import { sqliteStore } from 'troupe/persistence';
import { createSecrets, envSecrets, fileSecrets, redactingLogger, secretsFrom } from 'troupe/secrets';
import { dir, server, startSystem, useLoopbackServer } from './agents-harness.js';

useLoopbackServer('troupe-secrets-', 0);
const single = new URL('../dist/test/fixtures/workflows/single.js', import.meta.url);
let serial = 0;

/** A directory laid out like a mounted Kubernetes Secret: files are symlinks into `..data`, which points at a timestamped directory. */
function mountedSecret(values: Record<string, string>): { path: string; update(next: Record<string, string>): void } {
  const root = join(dir, `mount-${++serial}`);
  mkdirSync(root);
  let version = 0;
  const write = (next: Record<string, string>): void => {
    const data = `..${++version}`;
    mkdirSync(join(root, data));
    for (const [name, value] of Object.entries(next)) writeFileSync(join(root, data, name), `${value}\n`);
    symlinkSync(data, join(root, '..data_tmp'));
    renameSync(join(root, '..data_tmp'), join(root, '..data')); // the atomic swap
    for (const name of Object.keys(next)) {
      try {
        symlinkSync(join('..data', name), join(root, name));
      } catch {
        // already linked through ..data
      }
    }
  };
  write(values);
  return { path: root, update: write };
}

describe('secrets: sources', () => {
  it('reads the first source that holds a name: files, then the environment, then the application’s function', async () => {
    const mount = mountedSecret({ 'jwt-secret': 'from-the-file-0123456789abcdef0123' });
    const secrets = createSecrets({
      sources: [fileSecrets(mount.path), envSecrets({ prefix: 'APP_', env: { APP_API_PEPPER: 'from-the-env-0123456789' } }), secretsFrom((name) => (name === 'vault-only' ? 'from-the-vault-0123' : undefined), 'vault')],
      refreshMs: 0,
    });
    expect(await secrets.get('jwt-secret')).toBe('from-the-file-0123456789abcdef0123');
    expect(await secrets.get('api-pepper')).toBe('from-the-env-0123456789');
    expect(await secrets.get('vault-only')).toBe('from-the-vault-0123');
  });

  it('fails typed, naming the secret and the sources, never a value', async () => {
    const secrets = createSecrets({
      sources: [envSecrets({ env: {} }), secretsFrom(() => { throw new Error('vault said: token s3cr3t-value-in-error expired'); }, 'vault')],
      refreshMs: 0,
    });
    await expect(secrets.get('missing')).rejects.toMatchObject({ code: 'TROUPE_ERR_SECRET_SOURCE', secret: 'missing', message: expect.not.stringContaining('s3cr3t') });
    const empty = createSecrets({ sources: [envSecrets({ env: {} })], refreshMs: 0 });
    await expect(empty.get('missing')).rejects.toMatchObject({ code: 'TROUPE_ERR_SECRET_NOT_FOUND', message: 'secret "missing" is in none of the sources (env)' });
    await expect(empty.get('../etc/passwd')).rejects.toMatchObject({ code: 'TROUPE_ERR_INVALID_ARGUMENT' });
    expect(() => createSecrets({ sources: [] })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
  });
});

describe('secrets: rotation', () => {
  it('refresh() hands a changed value to its watchers and records the rotation (name and source, not the value)', async () => {
    const mount = mountedSecret({ 'signing-key': 'first-value-0123456789abcdef' });
    const auditPath = join(dir, `rotation-${++serial}.jsonl`);
    const audit = createAuditLog({ path: auditPath, key: 'audit-key-0123456789abcdef0123456789ab' });
    const secrets = createSecrets({ sources: [fileSecrets(mount.path)], refreshMs: 0, audit });
    const seen: string[] = [];
    await secrets.watch('signing-key', (value) => void seen.push(value));
    expect(await secrets.refresh()).toEqual([]);
    mount.update({ 'signing-key': 'second-value-0123456789abcdef' });
    expect(await secrets.refresh()).toEqual(['signing-key']);
    expect(seen).toEqual(['second-value-0123456789abcdef']);
    expect(await secrets.get('signing-key')).toBe('second-value-0123456789abcdef');
    await audit.close();
    const text = readFileSync(auditPath, 'utf8');
    const rotated = text.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEntry).find((e) => e.type === 'secrets.rotated');
    expect(rotated).toMatchObject({ subject: 'signing-key', detail: { source: `files ${mount.path}` } });
    expect(text).not.toContain('first-value');
    expect(text).not.toContain('second-value');
  });

  it('redactingLogger scrubs credential fields by name and every value read, current or rotated out', async () => {
    const mount = mountedSecret({ 'db-password': 'old-password-0123456789' });
    const secrets = createSecrets({ sources: [fileSecrets(mount.path)], refreshMs: 0 });
    const old = await secrets.get('db-password');
    mount.update({ 'db-password': 'new-password-0123456789' });
    await secrets.refresh();
    const lines: string[] = [];
    const log = redactingLogger(secrets, {}, { write: (line: string) => void lines.push(line) });
    log.info({ config: { apiKey: 'sk-not-from-the-provider' }, req: { headers: { authorization: 'Bearer abc.def.ghi' } } }, `connecting with ${old} then ${await secrets.get('db-password')}`);
    log.error(new Error(`login failed for new-password-0123456789`), 'oops');
    const text = lines.join('');
    for (const leaked of ['old-password', 'new-password', 'sk-not-from-the-provider', 'abc.def.ghi']) expect(text).not.toContain(leaked);
    expect(text).toContain('[REDACTED]');
  });
});

describe('secrets: a JWT signing key rotated by kid', () => {
  const jwt = { issuer: 'https://id.test', audience: 'troupe' };

  it('new tokens name the new key; old ones verify during the grace period, then not; an unknown kid never', async () => {
    let now = Date.UTC(2026, 11, 7, 12);
    const mount = mountedSecret({ 'jwt-secret': 'jwt-secret-one-0123456789abcdef0123' });
    const secrets = createSecrets({ sources: [fileSecrets(mount.path)], refreshMs: 0 });
    const auth = createAuth({ jwt: { ...jwt, secret: await secrets.get('jwt-secret'), rotationGraceSec: 600 }, now: () => now });
    await auth.watchJwtSecret(secrets, 'jwt-secret');
    const before = await auth.issueTokens('ada', 'viewer');
    const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
    const firstKid = kidOf(before.accessToken);
    expect(firstKid).toMatch(/^hs-/);
    mount.update({ 'jwt-secret': 'jwt-secret-two-0123456789abcdef0123' });
    expect(await secrets.refresh()).toEqual(['jwt-secret']);
    const after = await auth.issueTokens('ada', 'viewer');
    expect(kidOf(after.accessToken)).not.toBe(firstKid);
    const headers = (token: string) => ({ authorization: `Bearer ${token}` });
    await expect(auth.authenticate(headers(after.accessToken))).resolves.toMatchObject({ subject: 'ada' });
    await expect(auth.authenticate(headers(before.accessToken))).resolves.toMatchObject({ subject: 'ada' });
    await expect(auth.refresh(before.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    now += 601_000;
    const fresh = await auth.issueTokens('ada', 'viewer'); // within the access lifetime of its own iat
    await expect(auth.authenticate(headers(fresh.accessToken))).resolves.toMatchObject({ subject: 'ada' });
    await expect(auth.authenticate(headers(before.accessToken))).rejects.toMatchObject({ status: 401, code: 'TROUPE_ERR_AUTH_INVALID_TOKEN', detail: expect.stringMatching(/rotated out and its grace period has ended/) });
    // A second gateway reading the same secret derives the same kid: it accepts this one's tokens.
    const peer = createAuth({ jwt: { ...jwt, secret: await secrets.get('jwt-secret') }, now: () => now });
    await expect(peer.authenticate(headers(fresh.accessToken))).resolves.toMatchObject({ subject: 'ada' });
  });

  it('a leaked key rotated with graceSec 0 stops verifying at once, cached verifications included', async () => {
    const auth = createAuth({ jwt: { ...jwt, secret: 'leaked-secret-0123456789abcdef012345' } });
    const leaked = await auth.issueTokens('eve', 'admin');
    const headers = { authorization: `Bearer ${leaked.accessToken}` };
    await auth.authenticate(headers); // now cached
    auth.rotateJwtKey({ secret: 'replacement-secret-0123456789abcdef01', graceSec: 0 });
    await expect(auth.authenticate(headers)).rejects.toMatchObject({ code: 'TROUPE_ERR_AUTH_INVALID_TOKEN', detail: expect.stringMatching(/signature verification failed/) });
    await expect(auth.refresh(leaked.refreshToken)).rejects.toMatchObject({ code: 'TROUPE_ERR_AUTH_INVALID_TOKEN' });
  });
});

describe('JWT keys without a kid of their own', () => {
  const jwt = { issuer: 'https://id.test', audience: 'troupe' };
  it('a public key (an identity provider’s) accepts tokens that name their kid; an asymmetric key rotates, a same hand-given kid is refused', async () => {
    const { SignJWT, generateKeyPair } = await import('jose');
    const idp = await generateKeyPair('ES256');
    const sign = (kid: string, key = idp.privateKey) =>
      new SignJWT({ role: 'viewer' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).setIssuer(jwt.issuer).setAudience(jwt.audience).setSubject('idp-user').setIssuedAt().setExpirationTime('5m').sign(key);
    const auth = createAuth({ jwt: { ...jwt, verifyKey: idp.publicKey, algorithms: ['ES256'] } });
    await expect(auth.authenticate({ authorization: `Bearer ${await sign('idp-key-7')}` })).resolves.toMatchObject({ subject: 'idp-user' });
    const next = await generateKeyPair('ES256');
    auth.rotateJwtKey({ verifyKey: next.publicKey, algorithms: ['ES256'], kid: 'idp-key-8' });
    await expect(auth.authenticate({ authorization: `Bearer ${await sign('idp-key-8', next.privateKey)}` })).resolves.toMatchObject({ subject: 'idp-user' });
    await expect(auth.authenticate({ authorization: `Bearer ${await sign('idp-key-7')}` })).rejects.toMatchObject({ code: 'TROUPE_ERR_AUTH_INVALID_TOKEN' });
    expect(() => auth.rotateJwtKey({ verifyKey: idp.publicKey, algorithms: ['ES256'], kid: 'idp-key-8' })).toThrow(/a new key needs a new kid/);
  });
});

describe('secrets: a provider’s API key', () => {
  it('is read from the secrets at start and followed when it rotates; the old key is refused by the server', async () => {
    const mount = mountedSecret({ 'openai-api-key': 'sk-first-0123456789' });
    const secrets = createSecrets({ sources: [fileSecrets(mount.path)], refreshMs: 0 });
    server.configure({ apiKey: 'sk-first-0123456789' });
    const system = await startSystem({ workers: 1, store: sqliteStore({ path: join(dir, `provider-key-${++serial}.db`) }) });
    const agents = createAgents(system, { secrets, providers: { gpt: openai({ model: 'gpt-4o-mini', apiKeySecret: 'openai-api-key', baseURL: server.openaiBaseURL, retry: { attempts: 1 } }) } });
    const first = await agents.start(single, { prompt: 'one' });
    expect(await first.result()).toMatchObject({ only: { text: 're: one' } });
    server.configure({ apiKey: 'sk-second-0123456789' });
    mount.update({ 'openai-api-key': 'sk-second-0123456789' });
    expect(await secrets.refresh()).toEqual(['openai-api-key']);
    const second = await agents.start(single, { prompt: 'two' });
    expect(await second.result()).toMatchObject({ only: { text: 're: two' } });
    // A provider restarted by its supervisor is born with its spawn arguments' key, and is handed the rotated one again.
    const provider = await agents.provider('gpt');
    const restarted = system.events.waitFor('actor.restarted', (event) => event.name === 'troupe.provider/gpt');
    await system.restart(provider);
    await restarted;
    const third = await agents.start(single, { prompt: 'three' });
    expect(await third.result()).toMatchObject({ only: { text: 're: three' } });
    expect(() => openai({ model: 'm', apiKey: 'a', apiKeySecret: 'b' })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
    expect(() => createAgents(system, { providers: { x: openai({ model: 'm', apiKeySecret: 'b' }) } })).toThrow(expect.objectContaining({ code: 'TROUPE_ERR_INVALID_OPTION' }));
  });
});
