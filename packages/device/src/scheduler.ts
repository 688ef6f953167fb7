/**
 * The device's virtual clock and job scheduler. Time is a number of nanoseconds that only
 * moves when someone lets the device run (runUntil, advance, a fence wait): no timers, no
 * wall clock. Each engine class has `capacity` identical instances; a job is placed at
 * submission on the instance that frees first, after its queue's previous job and its
 * dependencies, so its start and end points are known at once. A job's DMA ops execute
 * when the clock reaches its start; its fence signals when the clock reaches its end.
 *
 * Busy time per (client, engine class) is the sum of the parts of its jobs' [start, end)
 * intervals that the clock has passed: monotonic, and exact at any instant (a running job
 * counts up to now), as drm-engine-<name> requires.
 *
 * Locking: `runLock` (a mutex) serialises runners; a DMA fault inside a job sleeps with it
 * held, which is why the fault handler must not wait on this device's fences.
 */
import { KernelError, Mutex, trace } from '@hmmkit/runtime';
import type { DeviceContext } from './context.js';
import type { DmaFence } from './fence.js';

/** One engine class: `capacity` identical instances. */
export interface EngineClass {
  readonly name: string;
  readonly capacity: number;
  /** Virtual time at which each instance becomes free. */
  readonly busyUntil: Float64Array;
}

/** A job placed on an engine instance. */
export interface ScheduledJob {
  readonly context: DeviceContext;
  readonly engine: number;
  readonly start: number;
  readonly end: number;
  readonly fence: DmaFence;
  /** Runs the job's DMA ops; rejects with the error the fence carries. */
  readonly run: () => Promise<void>;
  running: boolean;
  error: KernelError | undefined;
}

/** Virtual clock, engines and the list of unfinished jobs (internal to the device). */
export class Scheduler {
  readonly engines: EngineClass[];
  readonly #jobs: ScheduledJob[] = [];
  /** Engine ns of retired jobs, per client, per engine class. */
  readonly #retired = new Map<DeviceContext, Float64Array>();
  readonly #runLock: Mutex;
  #now = 0;
  #nextContext = 1;

  constructor(
    readonly name: string,
    engines: ReadonlyArray<readonly [string, number]>,
  ) {
    this.engines = engines.map(([n, c]) => ({
      name: n,
      capacity: c,
      busyUntil: new Float64Array(c),
    }));
    this.#runLock = new Mutex(`${name} scheduler`);
  }

  /** Current virtual time in ns. */
  get now(): number {
    return this.#now;
  }

  /** A new fence context number (dma_fence_context_alloc(1)). */
  allocContext(): number {
    return this.#nextContext++;
  }

  /** Index of engine class `name`, or -1. */
  engineIndex(name: string): number {
    return this.engines.findIndex((e) => e.name === name);
  }

  /** Picks the instance of engine `e` that frees first; returns [instance, start]. */
  place(e: number, ready: number, duration: number): { start: number; end: number } {
    const eng = this.engines[e]!;
    let best = 0;
    for (let i = 1; i < eng.capacity; i++) if (eng.busyUntil[i]! < eng.busyUntil[best]!) best = i;
    const start = Math.max(ready, this.#now, eng.busyUntil[best]!);
    const end = start + duration;
    eng.busyUntil[best] = end;
    return { start, end };
  }

  /** Adds a placed job. */
  enqueue(job: ScheduledJob): void {
    this.#jobs.push(job);
  }

  /** Busy ns of `context` on engine `e` up to now. */
  busyNs(context: DeviceContext, e: number): number {
    let busy = this.#retired.get(context)?.[e] ?? 0;
    for (const j of this.#jobs)
      if (j.context === context && j.engine === e && j.running)
        busy += Math.min(this.#now, j.end) - j.start;
    return busy;
  }

  /** Latest end point among `context`'s unfinished jobs (now when none). */
  lastEnd(context: DeviceContext): number {
    let t = this.#now;
    for (const j of this.#jobs) if (j.context === context && j.end > t) t = j.end;
    return t;
  }

  /** Number of unfinished jobs. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** End point of the last unfinished job (now when idle). */
  get horizon(): number {
    let t = this.#now;
    for (const j of this.#jobs) if (j.end > t) t = j.end;
    return t;
  }

  /**
   * Lets the device run until virtual time `t`: starts every job whose start point is
   * reached (running its DMA ops), retires every job whose end point is reached (busy time,
   * fence signal), in time order; then the clock reads max(now, t).
   * **Context**: may sleep (DMA faults); takes the scheduler mutex.
   */
  async runUntil(t: number): Promise<void> {
    await this.#runLock.lock();
    try {
      for (let j = this.#nextEvent(t); j !== undefined; j = this.#nextEvent(t)) {
        if (j.running) this.#retire(j);
        else await this.#start(j);
      }
      if (t > this.#now) this.#now = t;
    } finally {
      this.#runLock.unlock();
    }
  }

  /** The earliest event at or before `t`: a retirement before a start at the same time. */
  #nextEvent(t: number): ScheduledJob | undefined {
    let best: ScheduledJob | undefined;
    let bestT = Number.POSITIVE_INFINITY;
    for (const j of this.#jobs) {
      const at = j.running ? j.end : j.start;
      if (at > t) continue;
      if (at < bestT || (at === bestT && j.running && !best!.running)) {
        best = j;
        bestT = at;
      }
    }
    return best;
  }

  async #start(j: ScheduledJob): Promise<void> {
    if (j.start > this.#now) this.#now = j.start;
    j.running = true;
    trace('device', 'job-start', { device: this.name, engine: this.engines[j.engine]!.name });
    try {
      await j.run();
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      j.error = e;
    }
  }

  #retire(j: ScheduledJob): void {
    if (j.end > this.#now) this.#now = j.end;
    this.#jobs.splice(this.#jobs.indexOf(j), 1);
    let r = this.#retired.get(j.context);
    if (r === undefined) {
      r = new Float64Array(this.engines.length);
      this.#retired.set(j.context, r);
    }
    r[j.engine]! += j.end - j.start;
    j.fence.signal(j.error);
    trace('device', 'fence-signal', { device: this.name, seqno: j.fence.seqno });
  }
}
