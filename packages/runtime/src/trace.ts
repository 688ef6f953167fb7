import { rt } from './runtime.js';
import { emit, installSink, sink, type TraceEvent } from './trace-sink.js';
import { checkName, invalid } from './validate.js';

export type { TraceEvent };

/**
 * Installs (or, with `undefined`, removes) the trace sink that receives every event:
 * task switches (`sched`/`switch`), spawns and exits (`task`), sleeps (`wait`, named
 * after what the task waits for), lock requests and releases (`lock`, named after the
 * lock class, `args.op` 'acquire' at the request as the kernel's lock_acquire
 * tracepoint, or 'release'), violations and user events.
 *
 * **Details**: timestamps come from a virtual clock that advances by one per event
 * and per task switch, so traces are reproducible. Without a sink every emit point
 * costs one comparison.
 *
 * @throws KernelError EINVAL if `s` is neither a function nor undefined.
 * @example
 * ```ts
 * const events: TraceEvent[] = [];
 * setTraceSink((e) => events.push(e));
 * ```
 */
export function setTraceSink(s: ((e: TraceEvent) => void) | undefined): void {
  if (s !== undefined && typeof s !== 'function') {
    throw invalid('setTraceSink', 'sink', 'must be a function or undefined', s);
  }
  installSink(s);
}

/**
 * Emits a user event for the current task; a no-op without a sink. Mirrors a
 * tracepoint (trace_<event>()).
 *
 * @throws KernelError EINVAL (with a sink installed) if `kind` or `name` is empty.
 */
export function trace(kind: string, name: string, args?: Record<string, unknown>): void {
  if (sink === undefined) return;
  checkName('trace', kind, 'kind');
  checkName('trace', name);
  emit(rt.current.id, kind, name, args);
}
