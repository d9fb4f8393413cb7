/**
 * The line protocol a ledger process (process scenarios' child.ts, cluster
 * scenarios' node.ts) speaks on stdin/stdout: `add <ledger> <k>` answered
 * `ok <ledger> <k>` once the append's persist resolved or `fail <ledger> <k>
 * <code>`; `read` answered `read <json: k[] per ledger>`; `stop` ends the
 * loop. A line on a pipe is written synchronously on Linux, so an `ok` the
 * harness read was printed before any kill.
 */
import { createInterface } from 'node:readline';
import type { ActorRef } from 'troupe';

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Serves stdin until `stop` or its end; `other` handles any other word . */
export async function serveLedgerLines(refs: Pick<ActorRef, 'ask'>[], askTimeoutMs: number, other: (word: string, arg: string | undefined) => void = () => undefined): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    const [word, a, b] = line.split(' ');
    if (word === 'add') {
      const ledger = Number(a);
      const k = Number(b);
      refs[ledger]!.ask({ type: 'add', k }, { timeoutMs: askTimeoutMs }).then(
        () => out(`ok ${ledger} ${k}`),
        (error: { code?: string }) => out(`fail ${ledger} ${k} ${error?.code ?? 'ERROR'}`),
      );
    } else if (word === 'read') {
      const all = await Promise.all(refs.map((ref) => ref.ask<number[]>({ type: 'read' }, { timeoutMs: 30_000 })));
      out(`read ${JSON.stringify(all)}`);
    } else if (word === 'stop') {
      return;
    } else if (word !== undefined) {
      other(word, a);
    }
  }
}
