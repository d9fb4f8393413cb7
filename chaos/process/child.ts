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
import { createInterface } from 'node:readline';
import { ActorSystem, type ActorRef } from 'troupe';
import { sqliteStore } from 'troupe/persistence';

const [path, ledgerCount, workerCount, activation] = process.argv.slice(2);
const ledgers = Number(ledgerCount);
const url = new URL('./ledger.js', import.meta.url);
const system = await ActorSystem.start({ workers: Number(workerCount), logLevel: 'silent', store: sqliteStore({ path: path! }) });
const names = Array.from({ length: ledgers }, (_, i) => `ledger-${i}`);
// Spawned ledgers recover before their first message; entities are activated (and recovered) by it.
const refs: Pick<ActorRef, 'ask'>[] =
  activation === 'entity' ? names.map((name) => system.entity(url, name)) : await Promise.all(names.map((name) => system.spawn(url, { name })));
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
out(`ready ${Math.round(performance.now())}`);

for await (const line of createInterface({ input: process.stdin })) {
  const [word, a, b] = line.split(' ');
  if (word === 'add') {
    const ledger = Number(a);
    const k = Number(b);
    refs[ledger]!.ask({ type: 'add', k }, { timeoutMs: 30_000 }).then(
      () => out(`ok ${ledger} ${k}`),
      (error: { code?: string }) => out(`fail ${ledger} ${k} ${error?.code ?? 'ERROR'}`),
    );
  } else if (word === 'read') {
    const all = await Promise.all(refs.map((ref) => ref.ask<number[]>({ type: 'read' }, { timeoutMs: 30_000 })));
    out(`read ${JSON.stringify(all)}`);
  } else if (word === 'stop') {
    break;
  }
}
await system.shutdown();
