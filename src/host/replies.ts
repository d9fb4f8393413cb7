/**
 * A reply deferred past its handler (`ctx.deferReply()`): the handle keeps
 * what it answers (asker, correlation, trace), so it can be used from a
 * timer or another actor's answer long after the handler has settled, once.
 */
import type { Cell } from '../actor/cell.js';
import type { ReplyHandle } from '../actor/context.js';
import type { ActorRef } from '../actor/ref.js';
import { Kind, kindOf, srcHostOf } from '../codec/envelope.js';
import { assertEncodable, type MessageLimits } from '../codec/validate.js';

/** What a deferred reply needs of its host. */
export interface ReplyingHost {
  readonly limits: MessageLimits;
  refFor(id: number, name: string | undefined): ActorRef;
  replyTo(host: number, corr: number, value: unknown, from?: Cell): void;
  replyErrorTo(host: number, corr: number, error: unknown): void;
}

export function deferReply(host: ReplyingHost, cell: Cell): ReplyHandle<any> {
  const { curKindWord: kindWord, curSender: sender, curCorr: corr, curTrace: trace, replied: wasReplied } = cell;
  cell.replied = true;
  let used = wasReplied || kindOf(kindWord) !== Kind.ask;
  const take = (): boolean => {
    if (used) return false;
    used = true;
    return true;
  };
  return {
    send: (value: unknown) => {
      if (kindOf(kindWord) === Kind.tell && sender !== 0 && !wasReplied) {
        host.refFor(sender, undefined).tellAs(value, cell.id, trace);
        return;
      }
      if (!take()) return;
      assertEncodable(value, host.limits);
      host.replyTo(srcHostOf(kindWord), corr, value, cell);
    },
    fail: (error: unknown) => {
      if (take()) host.replyErrorTo(srcHostOf(kindWord), corr, error);
    },
  };
}
