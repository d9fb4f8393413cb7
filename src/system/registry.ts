/**
 * The system's names: which actor answers to a name. Only the main thread
 * holds it (every claim comes to main as a control record), so a name is
 * unique across threads without a lock. The directory in shared memory says
 * whether the holder still runs: a name whose holder has died is free.
 */
import type { ActorId, Directory } from '../lane/directory.js';

export class NameRegistry {
  readonly #directory: Directory;
  readonly #ids = new Map<string, number>();
  /** The reverse of #ids, so a dead worker's names are dropped without scanning them all. */
  readonly #names = new Map<number, string>();

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  /** Registers `name` for `id`; false if a running actor holds it. */
  claim(name: string, id: ActorId): boolean {
    const holder = this.#ids.get(name);
    if (holder !== undefined) {
      if (this.#directory.hostOf(holder) >= 0) return false;
      this.#names.delete(holder);
    }
    this.#ids.set(name, id);
    this.#names.set(id, name);
    return true;
  }

  /** Frees `name` if `id` still holds it (a newer holder keeps it). */
  release(name: string, id: number): void {
    if (this.#ids.get(name) === id) {
      this.#ids.delete(name);
      this.#names.delete(id);
    }
  }

  /** The running actor registered under `name`. */
  idOf(name: string): number | undefined {
    const id = this.#ids.get(name);
    return id === undefined || this.#directory.hostOf(id) < 0 ? undefined : id;
  }

  nameOf(id: number): string | undefined {
    return this.#names.get(id);
  }

  /** Every running actor that has a name. */
  *running(): Generator<[name: string, id: number]> {
    for (const entry of this.#ids) if (this.#directory.hostOf(entry[1]) >= 0) yield entry;
  }
}
