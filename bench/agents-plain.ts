/**
 * The baseline of bench/agents: the pipeline's calls made by a plain `async`
 * loop, through the same official SDK, with no orchestration at all (no
 * journal, no actors, no rate limiter): what the workflow engine's CPU per
 * step is measured against.
 */
import OpenAI from 'openai';
import { setImmediate as immediate } from 'node:timers/promises';

export interface PlainResult {
  ms: number;
  cpuMs: number;
  steps: number;
}

/** A counting semaphore: at most `limit` calls open at once, as the provider's concurrency cap. */
function semaphore(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let open = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (open >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    open++;
    try {
      return await fn();
    } finally {
      open--;
      waiting.shift()?.();
    }
  };
}

export async function plainLoop(baseURL: string, runs: number, concurrency: number): Promise<PlainResult> {
  const client = new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0 });
  const limit = semaphore(concurrency);
  const call = (tag: string, what: string) =>
    limit(async () => {
      const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: `${tag} ${what}` }] });
      return answer.choices[0]?.message.content ?? '';
    });
  const streamed = (tag: string, what: string) =>
    limit(async () => {
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 64, stream: true, messages: [{ role: 'user', content: `${tag} ${what}` }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    });
  const one = async (tag: string): Promise<void> => {
    const plan = await call(tag, 'plan the work');
    const fetched = { key: `${tag}/fetch`, words: plan.split(' ').length }; // the tool
    await streamed(tag, `draft it ${fetched.words > 0 ? '' : '?'}`.trimEnd());
    await immediate(); // the human answers on a later turn of the loop
    await call(tag, 'finish it');
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: runs }, (_, i) => one(`p-${i}`)));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, steps: runs * 5 };
}
