/**
 * Chrome trace-event JSON (the format Perfetto and chrome://tracing open) from the
 * runtime's trace events. Each task becomes a thread; the scheduler's switch events
 * become "running" slices, everything else an instant event on its task's track.
 */
import type { TraceEvent } from '@hmmkit/runtime';

/** One record of the Chrome trace-event format (the subset written here). */
export interface ChromeTraceEvent {
  name: string;
  cat: string;
  ph: 'B' | 'E' | 'i' | 'M';
  ts: number;
  pid: number;
  tid: number;
  s?: 't';
  args?: Record<string, unknown>;
}

const PID = 1;

/**
 * Converts runtime trace events (virtual clock ticks, used as microseconds) into a
 * Chrome trace-event document: `{ traceEvents: [...] }`.
 *
 * @throws TypeError when `events` is not an array.
 */
export function toChromeTrace(events: readonly TraceEvent[]): { traceEvents: ChromeTraceEvent[] } {
  if (!Array.isArray(events)) throw new TypeError(`events must be an array, got ${typeof events}`);
  const out: ChromeTraceEvent[] = [threadName(0, 'main')];
  let running: number | undefined;
  for (const e of events) {
    if (e.kind === 'task' && e.name === 'spawn') out.push(threadName(childId(e), childName(e)));
    if (e.kind === 'sched' && e.name === 'switch') {
      if (running !== undefined) out.push(slice('E', e.ts, running));
      out.push(slice('B', e.ts, e.task));
      running = e.task;
      continue;
    }
    out.push(instant(e));
  }
  if (running !== undefined) out.push(slice('E', lastTs(events), running));
  return { traceEvents: out };
}

function threadName(tid: number, name: string): ChromeTraceEvent {
  return { name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: PID, tid, args: { name } };
}

function slice(ph: 'B' | 'E', ts: number, tid: number): ChromeTraceEvent {
  return { name: 'running', cat: 'sched', ph, ts, pid: PID, tid };
}

function instant(e: TraceEvent): ChromeTraceEvent {
  const r: ChromeTraceEvent = {
    name: e.name,
    cat: e.kind,
    ph: 'i',
    s: 't',
    ts: e.ts,
    pid: PID,
    tid: e.task,
  };
  if (e.args !== undefined) r.args = plainArgs(e.args);
  return r;
}

/** Event args as JSON-safe values: objects (an Mm, a range) become a short label. */
function plainArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = plainValue(v);
  return out;
}

function plainValue(v: unknown): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') {
    const id = (v as { id?: unknown }).id;
    return `${v.constructor?.name ?? 'object'}${typeof id === 'number' ? ` ${id}` : ''}`;
  }
  return String(v);
}

function childId(e: TraceEvent): number {
  return typeof e.args?.child === 'number' ? e.args.child : e.task;
}

function childName(e: TraceEvent): string {
  return typeof e.args?.name === 'string' ? e.args.name : `task ${childId(e)}`;
}

function lastTs(events: readonly TraceEvent[]): number {
  return events.length === 0 ? 0 : events[events.length - 1]!.ts;
}
