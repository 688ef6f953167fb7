import { Prng } from '../prng.js';
import {
  AFTER_BLOCK,
  rt,
  type SchedPoint,
  type SchedulePolicy,
  VOLUNTARY_YIELD,
} from '../runtime.js';
import type { TaskState } from '../task.js';

/**
 * Exploration policies. Each is consulted only at steps with two or more runnable
 * tasks and returns an index into the run queue; `dflt` is the default choice.
 */

export interface ExplorePolicy extends SchedulePolicy {
  /** Prepares run number `run` (0-based). */
  beginRun(run: number): void;
  /** Called after a run with its step count; false when nothing is left to explore. */
  endRun(steps: number): boolean;
}

function runSeed(seed: number, run: number): number {
  return (Math.imul(run + 1, 0x9e3779b1) ^ seed) >>> 0;
}

/** Uniformly random choice at every step. */
export class RandomPolicy implements ExplorePolicy {
  readonly #seed: number;
  #rng: Prng;
  constructor(seed: number) {
    this.#seed = seed;
    this.#rng = new Prng(seed);
  }
  beginRun(run: number): void {
    this.#rng = new Prng(runSeed(this.#seed, run));
  }
  endRun(): boolean {
    return true;
  }
  choose(runq: readonly TaskState[]): number {
    return this.#rng.nextInt(runq.length);
  }
}

/**
 * Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): each task gets a
 * random distinct priority of at least `depth`, the highest-priority runnable task
 * always runs, and at `depth - 1` random steps within the expected run length the
 * running task drops to priority `depth - i`. The run length is learned: the largest
 * step count seen so far.
 */
export class PctPolicy implements ExplorePolicy {
  readonly #seed: number;
  readonly #depth: number;
  #rng: Prng;
  #expectedSteps = 32;
  #prio = new Map<TaskState, number>();
  #changes = new Map<number, number>();

  constructor(seed: number, depth: number) {
    this.#seed = seed;
    this.#depth = depth;
    this.#rng = new Prng(seed);
  }

  beginRun(run: number): void {
    this.#rng = new Prng(runSeed(this.#seed, run));
    this.#prio = new Map();
    this.#changes = new Map();
    for (let i = 1; i < this.#depth; i++) {
      const step = 1 + this.#rng.nextInt(this.#expectedSteps);
      if (!this.#changes.has(step)) this.#changes.set(step, this.#depth - i);
    }
  }

  endRun(steps: number): boolean {
    if (steps > this.#expectedSteps) this.#expectedSteps = steps;
    return true;
  }

  choose(runq: readonly TaskState[], _dflt: number, prev: TaskState, point: SchedPoint): number {
    const lowered = this.#changes.get(rt.steps);
    if (lowered !== undefined) this.#prio.set(prev, lowered);
    let best = 0;
    let bestPrio = -1;
    for (let i = 0; i < runq.length; i++) {
      // A polling task steps aside, or its loop would spin forever at top priority.
      if (point === VOLUNTARY_YIELD && runq[i] === prev) continue;
      const p = this.#priority(runq[i]!);
      if (p > bestPrio) {
        best = i;
        bestPrio = p;
      }
    }
    return best;
  }

  #priority(t: TaskState): number {
    let p = this.#prio.get(t);
    if (p === undefined) {
      p = this.#depth + this.#rng.nextFloat();
      this.#prio.set(t, p);
    }
    return p;
  }
}

interface Decision {
  /** Task ids in the order tried: the default first, then the run queue order. */
  options: number[];
  chosen: number;
  /** Whether choosing another option than the default is a preemption. */
  preemptive: boolean;
  /** Preemptions spent before this decision. */
  before: number;
}

/**
 * Bounded-exhaustive depth-first search over scheduling decisions with a preemption
 * bound (as CHESS and loom): any departure from the default while the previous task
 * could go on costs one preemption (at a polling task's yield the default already
 * switches to the oldest other task, so continuing the poller is the departure);
 * choosing after the running task blocked or ended is free. Each run replays a
 * prefix of choices and then takes defaults; backtracking picks the deepest decision
 * with an untried option within the bound.
 */
export class DfsPolicy implements ExplorePolicy {
  readonly #bound: number;
  #prefix: number[] = [];
  #trace: Decision[] = [];

  constructor(bound: number) {
    this.#bound = bound;
  }

  beginRun(): void {
    this.#trace = [];
  }

  choose(runq: readonly TaskState[], dflt: number, _prev: TaskState, point: SchedPoint): number {
    const options = [runq[dflt]!.id];
    for (let i = 0; i < runq.length; i++) if (i !== dflt) options.push(runq[i]!.id);
    const k = this.#trace.length;
    let chosen = 0;
    if (k < this.#prefix.length) chosen = Math.max(0, options.indexOf(this.#prefix[k]!));
    const last = this.#trace[k - 1];
    const before = last ? last.before + cost(last, last.chosen) : 0;
    this.#trace.push({ options, chosen, preemptive: point !== AFTER_BLOCK, before });
    const id = options[chosen]!;
    return runq.findIndex((t) => t.id === id);
  }

  endRun(): boolean {
    for (let k = this.#trace.length - 1; k >= 0; k--) {
      const d = this.#trace[k]!;
      for (let j = d.chosen + 1; j < d.options.length; j++) {
        if (d.before + cost(d, j) <= this.#bound) {
          this.#prefix = this.#trace.slice(0, k).map((x) => x.options[x.chosen]!);
          this.#prefix.push(d.options[j]!);
          return true;
        }
      }
    }
    return false;
  }
}

function cost(d: Decision, option: number): number {
  return d.preemptive && option !== 0 ? 1 : 0;
}

/** Follows recorded choices; the default everywhere else. */
export class ReplayPolicy implements SchedulePolicy {
  readonly #choices: Map<number, number>;
  constructor(choices: ReadonlyArray<readonly [number, number]>) {
    this.#choices = new Map(choices.map(([s, t]) => [s, t]));
  }
  choose(runq: readonly TaskState[], dflt: number): number {
    const want = this.#choices.get(rt.steps);
    if (want === undefined) return dflt;
    const i = runq.findIndex((t) => t.id === want);
    return i >= 0 ? i : dflt;
  }
}
