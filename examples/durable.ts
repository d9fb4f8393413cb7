// A durable account on the embedded SQLite journal. With a path, the journal
// outlives the process: run it again (or kill -9 it mid-run and run it again)
// and the balance goes on from the last acknowledged deposit.
//   node dist/examples/durable.js ./data/bank.db
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from 'troupe';
import { sqliteStore } from 'troupe/persistence';

const path = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'troupe-')), 'bank.db');
const system = await ActorSystem.start({ workers: 2, store: sqliteStore({ path }) });
const account = await system.spawn(new URL('./actors/account.js', import.meta.url), { name: 'account-42' });
const before = await account.ask<number>({ type: 'get' });
for (let i = 0; i < 3; i++) await account.ask({ type: 'deposit', amount: 10 });
console.log(`balance ${before} → ${await account.ask<number>({ type: 'get' })}`);
await system.shutdown();
