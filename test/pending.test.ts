import { describe, expect, it } from 'vitest';
import { PendingTable } from '../dist/src/host/pending.js';

describe('pending requests', () => {
  it('each request settles once: by its answer, by its own deadline, or with its host', async () => {
    const table = new PendingTable();
    const slow = [table.open(1, 'slow-a', 40), table.open(1, 'slow-b', 40)];
    const fast = [table.open(2, 'fast-a', 10), table.open(2, 'fast-b', 10), table.open(2, 'fast-c', 10)];
    const other = table.open(3, 'other', 60_000);
    expect(table.resolve(fast[1].corr, 'answered')).toBe(true);
    expect(table.resolve(fast[1].corr, 'twice')).toBe(false);
    const outcomes = await Promise.allSettled([...fast, ...slow].map((p) => p.promise));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as { code: string }).code))).toEqual([
      'TROUPE_ERR_ASK_TIMEOUT',
      'answered',
      'TROUPE_ERR_ASK_TIMEOUT',
      'TROUPE_ERR_ASK_TIMEOUT',
      'TROUPE_ERR_ASK_TIMEOUT',
    ]);
    expect(table.size).toBe(1);
    expect(table.rejectHost(3, (label) => new Error(`host gone: ${label}`))).toBe(1);
    await expect(other.promise).rejects.toThrow('host gone: other');
    expect(table.size).toBe(0);
  });

  it('keeps no trace of answered requests (no timer keeps them alive)', async () => {
    const table = new PendingTable();
    for (let i = 0; i < 10_000; i++) {
      const { corr, promise } = table.open(1, 'x', 5_000);
      table.resolve(corr, i);
      await promise;
    }
    expect(table.size).toBe(0);
  });
});
