/**
 * Where the hub actor (on main) hands run events to the Run handles of the
 * createAgents instance that started it: a map in the main thread's module
 * scope, keyed by the instance's token, since an actor's handler has no
 * other way to reach objects of the program that spawned it.
 */
export type RunEventSink = (run: string, event: Record<string, unknown>) => void;

export const runEventSinks = new Map<string, RunEventSink>();
