/**
 * A FIFO of pending messages, stored flat (four slots a message) in a ring
 * that doubles when full, so queuing allocates nothing per message.
 * Slots: kind word (kind | srcHost << 16), sender id, ask correlation, trace
 * (the user-visible correlation id), message.
 */
const kStride = 5;

export class Mailbox {
  #slots: unknown[] = new Array(16 * kStride);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(kindWord: number, sender: number, corr: number, trace: number, msg: unknown): void {
    let capacity = this.#slots.length / kStride;
    if (this.#length === capacity) {
      this.#grow();
      capacity *= 2;
    }
    let at = ((this.#head + this.#length) & (capacity - 1)) * kStride;
    const slots = this.#slots;
    slots[at++] = kindWord;
    slots[at++] = sender;
    slots[at++] = corr;
    slots[at++] = trace;
    slots[at] = msg;
    this.#length++;
  }

  /** Removes the head; read its fields first with `headKindWord()` and friends. */
  shift(): void {
    const at = this.#head * kStride;
    this.#slots[at + 4] = undefined;
    this.#head = (this.#head + 1) & (this.#slots.length / kStride - 1);
    this.#length--;
  }

  headKindWord(): number {
    return this.#slots[this.#head * kStride] as number;
  }

  headSender(): number {
    return this.#slots[this.#head * kStride + 1] as number;
  }

  headCorr(): number {
    return this.#slots[this.#head * kStride + 2] as number;
  }

  headTrace(): number {
    return this.#slots[this.#head * kStride + 3] as number;
  }

  headMessage(): unknown {
    return this.#slots[this.#head * kStride + 4];
  }

  #grow(): void {
    const capacity = this.#slots.length / kStride;
    const grown: unknown[] = new Array(capacity * 2 * kStride);
    for (let i = 0; i < this.#length; i++) {
      const from = ((this.#head + i) & (capacity - 1)) * kStride;
      const to = i * kStride;
      grown[to] = this.#slots[from];
      grown[to + 1] = this.#slots[from + 1];
      grown[to + 2] = this.#slots[from + 2];
      grown[to + 3] = this.#slots[from + 3];
      grown[to + 4] = this.#slots[from + 4];
    }
    this.#slots = grown;
    this.#head = 0;
  }
}
