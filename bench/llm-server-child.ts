/**
 * The loopback LLM server as a child process (bench/llm-server.ts's CLI), so
 * its CPU is not counted in the process under measurement. stop() sends
 * SIGTERM and returns the bill the server prints as it exits.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LlmBill } from './llm-server.js';

/** The CLI's bill: per-prompt counts are summed up as how many prompts there were. */
export type ChildBill = Omit<LlmBill, 'byPrompt'> & { prompts: number };

export interface LlmServerChild {
  openaiBaseURL: string;
  stop(): Promise<{ bill: ChildBill; peakConcurrent: number }>;
}

const kScript = fileURLToPath(new URL('./llm-server.js', import.meta.url));

/** `args` are the CLI's flags: `--latency 300,3000`, `--tpm N`, `--window-ms N`, `--inject-429-every N`, ... */
export async function startLlmServerChild(args: string[]): Promise<LlmServerChild> {
  const child = spawn(process.execPath, [kScript, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`llm-server exited (${code}) before it answered`))));
  exited.catch(() => {});
  const next = async (): Promise<string> => {
    const line = await Promise.race([lines.next(), exited]);
    if (line.done === true) throw new Error('llm-server closed its output');
    return line.value;
  };
  let openaiBaseURL: string | undefined;
  while (openaiBaseURL === undefined) {
    const match = /^\s*OPENAI_BASE_URL=(\S+)/.exec(await next());
    if (match !== null) openaiBaseURL = match[1];
  }
  return {
    openaiBaseURL,
    async stop() {
      child.kill('SIGTERM');
      for (;;) {
        const line = await next();
        if (line.startsWith('{')) return JSON.parse(line) as { bill: ChildBill; peakConcurrent: number };
      }
    },
  };
}
