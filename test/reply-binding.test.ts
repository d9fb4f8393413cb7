import { describe, expect, it } from 'vitest';
import type { DeadLetterEvent } from 'troupe';
import { fixture, startSystem } from './helpers.js';

// A reply is bound to the message it answers (issue 18, defect 1): once a
// handler has settled, its ctx answers nothing, and its late reply is a dead letter.
describe('a reply answers its own message', () => {
  for (const host of [0, 'main'] as const) {
    it(`a ctx kept from an earlier message cannot answer a later ask (${String(host)})`, async () => {
      await using system = await startSystem();
      const replier = await system.spawn(fixture('late-replier'), { host });
      const stale = system.events.waitFor('deadLetter', (e) => e.reason === 'reply-after-handler');
      expect(await replier.ask({ type: 'keep' })).toBe('kept');
      expect(await replier.ask({ type: 'use-kept' })).toBe('fresh');
      expect(await stale).toMatchObject({ sender: replier.id, message: 'stale' });
    });

    it(`a timer's late reply never reaches the ask being handled when it fires (${String(host)})`, async () => {
      await using system = await startSystem();
      const replier = await system.spawn(fixture('late-replier'), { host });
      const late = system.events.waitFor('deadLetter', (e) => e.reason === 'reply-after-handler');
      // The first ask is never answered by its handler: it times out, as it should.
      const first = expect(replier.ask({ type: 'late-timer' }, { timeoutMs: 500 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ASK_TIMEOUT' });
      const second = replier.ask({ type: 'slow' });
      expect(await second).toBe('slow-value');
      await first;
      const event: DeadLetterEvent = await late;
      expect(event.message).toBe('late-value');
    });
  }

  it('a ctx kept by a synchronous handler cannot answer a later message handled by a promise', async () => {
    await using system = await startSystem();
    const replier = await system.spawn(fixture('late-replier'), { host: 0, export: 'mixedReplier' });
    const stale = system.events.waitFor('deadLetter', (e) => e.reason === 'reply-after-handler');
    expect(await replier.ask({ type: 'keep' })).toBe('kept');
    expect(await replier.ask({ type: 'use-kept' })).toBe('fresh');
    expect(await stale).toMatchObject({ sender: replier.id, message: 'stale' });
  });

  it('a synchronous handler whose timer replies later: a dead letter, not an answer', async () => {
    await using system = await startSystem();
    const replier = await system.spawn(fixture('late-replier'), { host: 1, export: 'syncLateReplier' });
    const late = system.events.waitFor('deadLetter', (e) => e.reason === 'reply-after-handler');
    const ask = expect(replier.ask({ type: 'late-timer' }, { timeoutMs: 500 })).rejects.toMatchObject({ code: 'TROUPE_ERR_ASK_TIMEOUT' });
    expect(await late).toMatchObject({ sender: replier.id, message: 'late-value' });
    await ask;
  });
});
