/**
 * One incarnation of the system under test of a process scenario: a child
 * process running chaos/process/child.js, spoken to line by line. The
 * harness SIGKILLs it as a fault; any other exit is an error of the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const kChild = fileURLToPath(new URL('./child.js', import.meta.url));

export interface SystemProcessOptions {
  journal: string;
  ledgers: number;
  workers: number;
  activation: 'spawn' | 'entity';
  /** Every line the child prints except `ready` and `read`. */
  onLine: (line: string) => void;
  /** The child started its system: ms from its process start. */
  onReady: (startupMs: number) => void;
  /** The child exited on its own, not by `kill()` or `stop()`. */
  onUnexpectedExit: (how: string, stderr: string) => void;
}

export class SystemProcess {
  readonly #proc: ChildProcess;
  readonly #exited: Promise<void>;
  #stderr = '';
  #ending = false;
  #ready = false;
  #readWaiter: ((ledgers: number[][]) => void) | undefined = undefined;

  constructor(readonly options: SystemProcessOptions) {
    this.#proc = spawn(process.execPath, [kChild, options.journal, String(options.ledgers), String(options.workers), options.activation], { stdio: ['pipe', 'pipe', 'pipe'] });
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
        if (!this.#ending) options.onUnexpectedExit(signal === null ? `code ${code}` : `signal ${signal}`, this.#stderr);
        resolve();
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
      const timer = setTimeout(() => reject(new Error(`the system process did not answer a read within ${timeoutMs} ms; stderr: ${this.#stderr.trim() || '(empty)'}`)), timeoutMs);
      this.#readWaiter = (ledgers) => {
        clearTimeout(timer);
        resolve(ledgers);
      };
      this.send('read');
    });
  }

  /** SIGKILL, the fault: resolves once the process is gone. */
  async kill(): Promise<void> {
    this.#ending = true;
    this.#proc.kill('SIGKILL');
    await this.#exited;
  }

  /** A clean stop (the system shuts down), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.send('stop');
    this.#ending = true;
    this.#proc.stdin!.end();
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
