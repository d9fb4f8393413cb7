/**
 * One incarnation of the system under test of a process scenario: a child
 * process running chaos/process/child.js (or, for a cluster scenario, one
 * node: chaos/cluster/node.js), spoken to line by line. The harness SIGKILLs
 * it as a fault; any other exit is an error of the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const kChild = fileURLToPath(new URL('./child.js', import.meta.url));

export interface SystemProcessOptions {
  /** The script run. @default chaos/process/child.js */
  script?: string;
  /** Its arguments (child.js: journal, ledgers, workers, activation). */
  args: string[];
  /** Every line the child prints except `ready` and `read`. */
  onLine: (line: string) => void;
  /** The child started its system: ms from its process start. */
  onReady: (startupMs: number) => void;
  /** The child exited on its own, not by `kill()` or `stop()`. */
  onUnexpectedExit: (how: string, stderr: string) => void;
}

export class SystemProcess {
  readonly #proc: ChildProcess;
  /** How it ended: `code 0`, `code N` or `signal S`. */
  readonly #exited: Promise<string>;
  #gone = false;
  #stderr = '';
  #ending = false;
  #ready = false;
  #readWaiter: ((ledgers: number[][]) => void) | undefined = undefined;

  constructor(readonly options: SystemProcessOptions) {
    this.#proc = spawn(process.execPath, [options.script ?? kChild, ...options.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stderr!.on('data', (chunk: Buffer) => {
      // The tail is what explains a death: keep the last 4 KiB.
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4096);
    });
    // A write to a killed child's stdin fails with EPIPE: the kill already accounts for what it carried.
    this.#proc.stdin!.on('error', () => undefined);
    createInterface({ input: this.#proc.stdout! }).on('line', (line) => {
      if (line.startsWith('ready ')) {
        this.#ready = true;
        options.onReady(Number(line.slice(6)));
      } else if (line.startsWith('read ')) {
        this.#readWaiter?.(JSON.parse(line.slice(5)) as number[][]);
        this.#readWaiter = undefined;
      } else {
        options.onLine(line);
      }
    });
    this.#exited = new Promise((resolve) => {
      this.#proc.once('exit', (code, signal) => {
        this.#gone = true;
        const how = signal === null ? `code ${code}` : `signal ${signal}`;
        if (!this.#ending) options.onUnexpectedExit(how, this.#stderr);
        resolve(how);
      });
    });
  }

  get ready(): boolean {
    return this.#ready;
  }

  send(line: string): void {
    if (!this.#ending) this.#proc.stdin!.write(`${line}\n`);
  }

  /** Every ledger's numbers, as the running system holds them. */
  read(timeoutMs: number): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#readWaiter = undefined;
        reject(new Error(`the system process ${why}; stderr: ${this.#stderr.trim() || '(empty)'}`));
      };
      const timer = setTimeout(() => fail(`did not answer a read within ${timeoutMs} ms`), timeoutMs);
      // A process that is gone will never answer: say so at once, not at the timeout.
      void this.#exited.then((how) => {
        if (this.#readWaiter !== undefined) fail(`exited (${how}) before it answered a read`);
      });
      this.#readWaiter = (ledgers) => {
        clearTimeout(timer);
        resolve(ledgers);
      };
      if (this.#gone) fail('had exited before the read');
      else this.send('read');
    });
  }

  /** SIGKILL, the fault: resolves once the process is gone. */
  async kill(): Promise<void> {
    this.#ending = true;
    this.#proc.kill('SIGKILL');
    await this.#exited;
  }

  /**
   * A clean stop (the system shuts down); throws unless the process exits
   * with code 0 within `timeoutMs` (then it is SIGKILLed): a crash or a hang
   * at shutdown is a failure of the run, not hidden by it.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.send('stop');
    this.#ending = true;
    this.#proc.stdin!.end();
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      this.#proc.kill('SIGKILL');
    }, timeoutMs);
    const how = await this.#exited;
    clearTimeout(timer);
    if (hung) throw new Error(`the system process did not stop within ${timeoutMs} ms of being asked to`);
    if (how !== 'code 0') throw new Error(`the system process exited with ${how} when asked to stop; stderr: ${this.#stderr.trim().split('\n').slice(-5).join(' / ') || '(empty)'}`);
  }
}
