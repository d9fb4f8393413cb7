import { describe, expect, it } from 'vitest';
import { Cell } from '../dist/src/actor/cell.js';

// A cell keeps its rarely used lifecycle fields in one object made on demand
// and dropped when the last of them is cleared: clearing one must never lose
// another that is still set.
describe('cell lifecycle fields', () => {
  it('clearing one rare field keeps the others', async () => {
    const cell = new Cell(7 as never);
    const watchers = new Set([1, 2]);
    cell.watchers = watchers;
    cell.crashNext = true;
    const halting = Promise.resolve();
    cell.halting = halting;
    cell.halting = undefined;
    expect(cell.halting).toBeUndefined();
    expect(cell.watchers).toBe(watchers);
    expect(cell.crashNext).toBe(true);

    cell.crashNext = false;
    cell.watchers = undefined;
    expect(cell.watchers).toBeUndefined();
    expect(cell.crashNext).toBe(false);
    expect(cell.watchersUnknown).toBe(false);

    // Set again after everything was cleared (the object made anew).
    cell.watchersUnknown = true;
    cell.halting = halting;
    expect(cell.watchersUnknown).toBe(true);
    expect(cell.halting).toBe(halting);
  });

  it('idle waiters are released when the handler finishes, with other fields intact', async () => {
    const cell = new Cell(8 as never);
    cell.busy = true;
    cell.watchersUnknown = true;
    let released = 0;
    const idle = Promise.all([cell.whenIdle().then(() => released++), cell.whenIdle().then(() => released++)]);
    expect(released).toBe(0);
    cell.markIdle();
    await idle;
    expect(released).toBe(2);
    expect(cell.busy).toBe(false);
    expect(cell.watchersUnknown).toBe(true);
    await expect(cell.whenIdle()).resolves.toBeUndefined();
  });

  it('the bits packed in one integer (flags, restart type, incarnation) never change each other', () => {
    const cell = new Cell(7 as never);
    expect([cell.restartType, cell.incarnation, cell.busy]).toEqual(['permanent', 0, false]);
    cell.busy = true;
    cell.started = true;
    cell.restartType = 'transient';
    for (let i = 0; i < 70; i++) cell.incarnation++;
    expect([cell.busy, cell.scheduled, cell.replied, cell.started, cell.restartType, cell.incarnation]).toEqual([true, false, false, true, 'transient', 70]);
    cell.restartType = 'temporary';
    cell.busy = false;
    cell.replied = true;
    expect([cell.busy, cell.replied, cell.started, cell.restartType, cell.incarnation]).toEqual([false, true, true, 'temporary', 70]);
    // the counter wraps within its 24 bits instead of spilling into the flags
    cell.incarnation = 0xffffff;
    cell.incarnation++;
    expect([cell.incarnation, cell.restartType, cell.replied, cell.started]).toEqual([0, 'temporary', true, true]);
  });
});
