/**
 * Actor definitions by module URL and export, loaded once per host, and the
 * strings a host keeps one copy of (module URLs, export names, small kept
 * args) however many actors share them.
 */
import { isActorDefinition, type ActorDefinition } from '../actor/define-actor.js';
import { ModuleLoadError, NotAnActorError } from '../errors.js';

/** Distinct module URLs and export names a host keeps one copy of. */
const kInternedStrings = 4096;

export class Definitions {
  readonly #loadedModules: ReadonlyMap<string, Record<string, unknown>> | undefined;
  readonly #loading = new Map<string, Promise<ActorDefinition>>();
  /** Where each loaded definition came from: a top-level actor restarted here is started from it again. */
  readonly #sources = new Map<ActorDefinition, { u: string; e: string }>();
  readonly #interned = new Map<string, string>();

  /** `loadedModules`: what this thread imported before it became a host (a spare's warm-up), by URL. */
  constructor(loadedModules: ReadonlyMap<string, Record<string, unknown>> | undefined) {
    this.#loadedModules = loadedModules;
  }

  load(url: string, exportName: string): Promise<ActorDefinition> {
    const key = `${exportName}@${url}`;
    let loading = this.#loading.get(key);
    if (loading === undefined) {
      // A module the spare imported ahead is used as is: import() of it would
      // still wait for a turn of an event loop busy with a takeover's restarts.
      const loaded = this.#loadedModules?.get(url);
      loading = (loaded === undefined ? import(url) : Promise.resolve(loaded)).then(
        (module: Record<string, unknown>) => {
          const definition = module[exportName];
          if (!isActorDefinition(definition)) throw new NotAnActorError(url, exportName);
          this.#sources.set(definition, { u: url, e: exportName });
          return definition;
        },
        (error: unknown) => {
          throw new ModuleLoadError(url, error);
        },
      );
      // A failed load is not cached: the file may be fixed and spawned again.
      loading.catch(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /** The module URL and export a loaded definition came from. */
  sourceOf(definition: ActorDefinition): { u: string; e: string } | undefined {
    return this.#sources.get(definition);
  }

  /**
   * One copy of each module URL and export name, however many actors are
   * spawned from it: a decoded spec would otherwise carry its own copy into
   * every cell and every supervisor's child spec (~100 B an actor). Kept
   * args the same, in a table of their own. Bounded (kInternedStrings
   * entries), so a flood of distinct strings cannot grow one without end.
   */
  readonly intern = (text: string): string => internIn(this.#interned, text);
}

/** One copy of `text` in `table`; a full table starts over (copies already shared stay shared). */
export function internIn(table: Map<string, string>, text: string): string {
  const known = table.get(text);
  if (known !== undefined) return known;
  // Full: start over rather than keep the first ones for good (args keep coming in new shapes, ids in
  // them say).
  if (table.size >= kInternedStrings) table.clear();
  table.set(text, text);
  return text;
}
