/**
 * The system under test of a process scenario, in a process of its own so
 * the harness can SIGKILL it: durable ledgers over a SQLite journal, driven
 * by the harness through stdin and answering through stdout. A line on a
 * pipe is written synchronously on Linux, so an `ok` the harness read was
 * printed after its persist resolved and before any kill.
 *
 * Usage: node child.js <journal.db> <ledgers> <workers> <spawn|entity>
 *   stdin:  `add <ledger> <k>` | `read` | `stop`
 *   stdout: `ready <ms from process start>`, `ok <ledger> <k>`,
 *           `fail <ledger> <k> <code>`, `read <json: k[] per ledger>`
 */
import { ActorSystem, type ActorRef } from 'troupe';
import { sqliteStore } from 'troupe/persistence';
import { out, serveLedgerLines } from './ledger-lines.js';

const [path, ledgerCount, workerCount, activation] = process.argv.slice(2);
const ledgers = Number(ledgerCount);
const url = new URL('./ledger.js', import.meta.url);
const system = await ActorSystem.start({ workers: Number(workerCount), logLevel: 'silent', store: sqliteStore({ path: path! }) });
const names = Array.from({ length: ledgers }, (_, i) => `ledger-${i}`);
// Spawned ledgers recover before their first message; entities are activated (and recovered) by it.
const refs: Pick<ActorRef, 'ask'>[] =
  activation === 'entity' ? names.map((name) => system.entity(url, name)) : await Promise.all(names.map((name) => system.spawn(url, { name })));
out(`ready ${Math.round(performance.now())}`);

await serveLedgerLines(refs, 30_000);
await system.shutdown();
