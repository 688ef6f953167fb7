/**
 * The trace sink and the virtual clock. Kept free of imports so the scheduler can
 * emit task switches without a module cycle.
 */

/** One trace record. `ts` comes from the virtual clock, never from wall time. */
export interface TraceEvent {
  ts: number;
  task: number;
  kind: string;
  name: string;
  args?: Record<string, unknown>;
}

export type TraceSink = (e: TraceEvent) => void;

/** The installed sink; `undefined` makes every emit a single comparison. */
export let sink: TraceSink | undefined;
/** Virtual clock: advances by one per emitted event and per task switch. */
let clock = 0;

export function installSink(s: TraceSink | undefined): void {
  sink = s;
}

export function tick(): number {
  return ++clock;
}

export function emit(
  task: number,
  kind: string,
  name: string,
  args?: Record<string, unknown>,
): void {
  if (sink === undefined) return;
  const e: TraceEvent = { ts: ++clock, task, kind, name };
  if (args !== undefined) e.args = args;
  sink(e);
}
