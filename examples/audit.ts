// The audit log, keyed from the secrets provider: entries appended, verified,
// then one altered on disk, and verify names it. Run: npm run build && node dist/examples/audit.js
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog, verifyAuditLog } from 'troupe/audit';
import { createSecrets, fileSecrets } from 'troupe/secrets';

const dir = mkdtempSync(join(tmpdir(), 'troupe-audit-example-'));
writeFileSync(join(dir, 'audit-key'), 'an-example-key-of-at-least-32-bytes!\n'); // a mounted secret, in production
const secrets = createSecrets({ sources: [fileSecrets(dir)] });

const path = join(dir, 'audit.jsonl');
const audit = createAuditLog({ path, key: await secrets.get('audit-key'), checkpointEvery: 2 });
audit.append({ type: 'auth.failed', subject: '/admin/stats', detail: { code: 'TROUPE_ERR_AUTH_MISSING' } });
audit.append({ type: 'admin.actor.restart', actor: 'ada', subject: 'billing' });
audit.append({ type: 'auth.key.revoked', actor: 'ada', subject: 'ci-bot' });
await audit.close();
console.log(JSON.stringify(await verifyAuditLog(path, await secrets.get('audit-key'))));

// Someone rewrites who restarted billing.
const lines = readFileSync(path, 'utf8').split('\n');
const restart = lines.findIndex((line) => line.includes('"admin.actor.restart"'));
lines[restart] = lines[restart].replace('"actor":"ada"', '"actor":"eve"');
writeFileSync(path, lines.join('\n'));
const { ok, firstBad } = await verifyAuditLog(path, await secrets.get('audit-key'));
console.log(JSON.stringify({ ok, firstBad }));
secrets.close();
rmSync(dir, { recursive: true });
