/**
 * What the agents test files share: one loopback LLM server (bench/llm-server.ts) and one temporary
 * directory per file, and the system a test started, shut down after each test. Read `server`, `dir`
 * and `system` as live bindings; start a system with `startSystem` so it is stopped after the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ActorSystem } from 'troupe';
import { startLlmServer, type LlmServer } from '../dist/bench/llm-server.js';

export let server: LlmServer;
export let dir: string;
export let system: ActorSystem | undefined;

/** Registers the hooks: the server starts with `latencyMs` and is set back to it (no limits, no reply function) after each test. */
export function useLoopbackServer(prefix: string, latencyMs: number): void {
  beforeAll(async () => {
    server = await startLlmServer({ latencyMs });
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await stopSystem();
    server.resetBill();
    server.configure({ latencyMs, limits: undefined, reply: undefined });
  });
}

export async function startSystem(options: Parameters<typeof ActorSystem.start>[0]): Promise<ActorSystem> {
  system = await ActorSystem.start(options);
  return system;
}

export async function stopSystem(): Promise<void> {
  await system?.shutdown();
  system = undefined;
}
