/**
 * A conversation's history as its journal holds it: the events a turn
 * persists, how they rebuild the messages (the actor's `persistence.apply`,
 * pure, since recovery replays it), and the window of them a model call
 * is sent. No references to actors are journaled: the actors that serve the
 * tools are given anew at each spawn, so a journal outlives the process.
 */
import type { LlmMessage, LlmToolCall, LlmUsage } from './llm-types.js';

export type ConversationEvent =
  | { t: 'user'; content: string; at: number }
  | { t: 'assistant'; content: string; toolCalls: LlmToolCall[]; usage: LlmUsage }
  | { t: 'tool'; toolCallId: string; name: string; content: string };

export function applyConversationEvent(history: LlmMessage[], event: ConversationEvent): void {
  switch (event.t) {
    case 'user':
      history.push({ role: 'user', content: event.content });
      return;
    case 'assistant':
      history.push(event.toolCalls.length === 0 ? { role: 'assistant', content: event.content } : { role: 'assistant', content: event.content, toolCalls: event.toolCalls });
      return;
    case 'tool':
      history.push({ role: 'tool', content: event.content, toolCallId: event.toolCallId });
      return;
  }
}

/**
 * The latest `limit` messages, opened on a user message: both APIs refuse a
 * tool result whose call was cut off, and Anthropic's a first turn that is
 * not the user's. A turn longer than the limit on its own is sent whole from
 * its user message, since the model cannot answer it from less.
 */
export function windowOf(history: readonly LlmMessage[], limit: number): LlmMessage[] {
  if (history.length <= limit) return history.slice();
  let start = history.length - limit;
  while (start < history.length && history[start].role !== 'user') start++;
  if (start === history.length) start = lastUserIndex(history);
  return history.slice(Math.max(0, start));
}

function lastUserIndex(history: readonly LlmMessage[]): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].role === 'user') return i;
  return 0;
}

/**
 * The tool calls of the last assistant turn that have no result: a turn cut
 * short between persisting the model's answer and its tools' results. The
 * APIs refuse a history with such a call, so the next turn answers them first.
 */
export function unansweredCalls(history: readonly LlmMessage[]): LlmToolCall[] {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (message.role === 'user') return [];
    if (message.role !== 'assistant') continue;
    const answered = new Set(history.slice(i + 1).map((m) => m.toolCallId));
    return (message.toolCalls ?? []).filter((call) => !answered.has(call.id));
  }
  return [];
}

/** A tool's reply as the model reads it: JSON (a reply JSON cannot say, a BigInt say, as its text). */
export function toolContent(value: unknown): string {
  try {
    return JSON.stringify(value === undefined ? null : value) ?? 'null';
  } catch {
    return JSON.stringify(String(value));
  }
}
