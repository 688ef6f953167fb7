import { KernelError } from '../errors.js';
import { installRuntime, Runtime, rt, type SchedPoint, type SchedulePolicy } from '../runtime.js';
import type { TaskState } from '../task.js';

/**
 * One explorer run: a fresh runtime (empty lockdep graph, no tasks), the scenario as
 * task 0 `main`, the policy consulted at every step with a choice. The run ends when
 * every task has finished, at the first failure, or when nothing can run.
 */

export type Scenario = () => Promise<void> | void;

export interface RunConfig {
  maxSteps: number;
  lockdep: boolean;
  /** Record the runnable set at every step (determinism check). */
  signature: boolean;
}

export interface RunResult {
  failure: unknown;
  failed: boolean;
  /** Steps where the choice departed from the default: (step, task id). */
  choices: Array<[number, number]>;
  steps: number;
  signature: string[] | undefined;
}

/** Records every departure from the default choice while delegating to `inner`. */
class Recorder implements SchedulePolicy {
  readonly choices: Array<[number, number]> = [];
  readonly #inner: SchedulePolicy;
  constructor(inner: SchedulePolicy) {
    this.#inner = inner;
  }
  choose(runq: readonly TaskState[], dflt: number, prev: TaskState, point: SchedPoint): number {
    const i = this.#inner.choose(runq, dflt, prev, point);
    if (i !== dflt) this.choices.push([rt.steps, runq[i]!.id]);
    return i;
  }
}

/**
 * The stray-await watchdog. A run moves forward only through microtasks, so if the
 * macrotask queue gets a turn while a run is in progress, the running task is parked
 * on a promise that no runtime primitive will resolve. One setImmediate serves every
 * run; explore mode only (the default scheduler uses no timers).
 */
let active: Runtime | undefined;
let armed = false;

function arm(): void {
  if (armed) return;
  armed = true;
  setImmediate(fire);
}

function fire(): void {
  armed = false;
  const r = active;
  if (r === undefined || r.ended) return;
  r.violation(
    'stray-await',
    `task ${r.current} awaited something that is not a runtime primitive (step ${r.steps}); ` +
      'only runtime primitives may suspend a task, or the interleaving is no longer controlled',
  );
  r.end();
}

/** @throws KernelError EBUSY while another exploration's run is in progress. */
export function runOnce(
  scenario: Scenario,
  policy: SchedulePolicy,
  cfg: RunConfig,
): Promise<RunResult> {
  if (active !== undefined) {
    const msg = 'explorer: another exploration is running; run them one after the other';
    return Promise.reject(new KernelError('EBUSY', msg));
  }
  return new Promise((resolve) => {
    const recorder = new Recorder(policy);
    const signature = cfg.signature ? [] : undefined;
    const r: Runtime = new Runtime({
      policy: recorder,
      maxSteps: cfg.maxSteps,
      lockdep: cfg.lockdep,
      signature,
      onEnd(failure) {
        installRuntime(saved);
        active = undefined;
        resolve({
          failure,
          failed: r.hasFailure,
          choices: recorder.choices,
          steps: r.steps,
          signature,
        });
      },
    });
    const saved = installRuntime(r);
    active = r;
    r.spawn('main', scenario);
    arm();
  });
}
