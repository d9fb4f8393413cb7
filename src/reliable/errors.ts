import { TroupeError } from '../errors.js';

/** `send` on a reliable producer whose buffer already holds `bufferLimit` unconfirmed messages: not accepted. */
export class ReliableBufferFullError extends TroupeError {
  constructor(consumer: string, bufferLimit: number) {
    super('TROUPE_ERR_RELIABLE_BUFFER_FULL', `reliable channel to ${consumer} holds ${bufferLimit} unconfirmed messages already (bufferLimit)`);
  }
}
