/**
 * What a journal store does, whichever it is: append many actors' events in
 * one commit, each append checked against the sequence numbers already
 * taken, and read an actor's newest snapshot with the events after it. The
 * journal thread owns one backend; the contract suite (test/persistence-
 * contract.test.ts) holds both stores to the same behaviour.
 */
import type { WireError } from '../errors.js';
import type { AppendRequest, LoadedJournal } from './journal-protocol.js';

export interface JournalBackend {
  /**
   * Writes every request in one durable commit and answers each, in order:
   * `undefined` written, or the error that refused it (a conflict refuses
   * one request and writes none of it; a store fault refuses them all).
   */
  append(requests: AppendRequest[]): Promise<(WireError | undefined)[]>;
  /** The journals of `pids`, in order; an error where one could not be read. */
  load(pids: string[]): Promise<(LoadedJournal | WireError)[]>;
  close(): Promise<void>;
}
