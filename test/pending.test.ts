import { describe, expect, it } from 'vitest';
import { PendingTable } from '../dist/src/host/pending.js';

describe('pending requests', () => {
  it('each request settles once: by its answer, by its own deadline, or with its host', async () => {
    const table = new PendingTable();
    const slow = [table.open(1, 'slow-a', 40), table.open(1, 'slow-b', 40)];
    const fast = [table.open(2, 'fast-a', 10), table.open(2, 'fast-b', 10), table.open(2, 'fast-c', 10)];
    const other = table.open(3, 'other', 60_000);
    const queued = table.open(3, 'queued', 60_000);
    table.track(other.corr, 100);
    table.track(queued.corr, 200);
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
    expect(table.size).toBe(2);
    // host 3 died having consumed its lane up to position 150: 'other' (at 100) died with it, 'queued' (at 200) did not
    expect(table.rejectHost(3, 150, (label) => new Error(`host gone: ${label}`))).toBe(1);
    await expect(other.promise).rejects.toThrow('host gone: other');
    expect(table.size).toBe(1);
    // positions are free-running uint32 counters: the comparison survives the wrap
    const wrapped = table.open(4, 'wrapped', 60_000);
    table.track(wrapped.corr, 0xffff_fff0);
    expect(table.rejectHost(4, 0x10, () => new Error('gone'))).toBe(1);
    await expect(wrapped.promise).rejects.toThrow('gone');
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
