import { KernelError } from '../errors.js';
import { rt } from '../runtime.js';
import { invalid } from '../validate.js';
import { RuntimeViolation } from '../violation.js';
import {
  DfsPolicy,
  type ExplorePolicy,
  PctPolicy,
  RandomPolicy,
  ReplayPolicy,
} from './policies.js';
import { type RunConfig, type RunResult, runOnce, type Scenario } from './run.js';
import { DEFAULT_MAX_STEPS, formatSchedule, type PolicyName, parseSchedule } from './schedule.js';

/** How to explore. */
export interface ExploreOptions {
  /** `random`: uniform; `pct`: probabilistic concurrency testing; `dfs`: bounded exhaustive. */
  policy: 'random' | 'pct' | 'dfs';
  /** PRNG seed for random and pct (default 0). */
  seed?: number;
  /** Maximum number of runs (default 1000 for random/pct, 100000 for dfs). */
  runs?: number;
  /** dfs: preemptions allowed per run (default 2). */
  preemptionBound?: number;
  /** pct: bug depth d, i.e. d - 1 priority change points (default 3). */
  depth?: number;
  /** Scheduling steps per run before it fails as a livelock (default 10000). */
  maxSteps?: number;
  /** Record lock-order dependencies (default true). Off, an ABBA shows up only as a deadlock. */
  lockdep?: boolean;
  /** Run every schedule twice and fail if the runnable sets differ (default false). */
  determinism?: boolean;
  /** Called after every run with its schedule string (replayable) and whether it failed. */
  onRun?: (schedule: string, failed: boolean) => void;
}

/** A failing schedule, shrunk, with the one-line call that replays it. */
export interface ScheduleFailure {
  error: unknown;
  schedule: string;
  replay: string;
}

/** What an exploration did. `exhausted` (dfs only): every schedule within the bound ran. */
export interface ExploreResult {
  runs: number;
  failure?: ScheduleFailure;
  exhausted?: boolean;
}

interface Checked {
  onRun: ((schedule: string, failed: boolean) => void) | undefined;
  policy: PolicyName;
  seed: number;
  runs: number;
  bound: number;
  depth: number;
  cfg: RunConfig;
}

const SHRINK_BUDGET = 200;

/**
 * Runs `scenario` under many interleavings and returns the first failure, shrunk.
 *
 * **Details**: each run starts from a fresh runtime: the scenario runs as task 0
 * `main`, spawns its tasks and may check invariants at the end. A run fails on a
 * thrown error (from main or from a task nobody joined), any RuntimeViolation (even
 * if caught), a deadlock, a stray await or a livelock. The failing schedule is shrunk
 * by dropping preemptions while it still fails the same way. Everything the scenario
 * uses must be created inside it.
 *
 * @throws KernelError EINVAL on bad options, EBUSY when called inside a run.
 * @example
 * ```ts
 * const res = await explore(scenario, { policy: 'dfs', preemptionBound: 2 });
 * if (res.failure) console.log(res.failure.replay);
 * ```
 */
export async function explore(scenario: Scenario, opts: ExploreOptions): Promise<ExploreResult> {
  const o = checkOptions(scenario, opts);
  const policy = makePolicy(o);
  for (let run = 0; run < o.runs; run++) {
    policy.beginRun(run);
    let res = await runOnce(scenario, policy, o.cfg);
    if (!res.failed && o.cfg.signature) res = await compareReplay(scenario, o, res);
    o.onRun?.(scheduleOf(o, res.choices), res.failed);
    if (res.failed) return { runs: run + 1, failure: await shrink(scenario, o, res) };
    if (!policy.endRun(res.steps)) return { runs: run + 1, exhausted: true };
  }
  return o.policy === 'dfs' ? { runs: o.runs, exhausted: false } : { runs: o.runs };
}

/**
 * Runs `scenario` once under `schedule` (as printed by explore) and rethrows the
 * failure, so a found bug becomes a regression test.
 *
 * @throws the run's failure; KernelError EINVAL on a malformed schedule, EBUSY inside a run.
 * @example
 * ```ts
 * await replay('dfs:0:5>2', scenario);
 * ```
 */
export async function replay(schedule: string, scenario: Scenario): Promise<void> {
  const s = parseSchedule(schedule);
  checkScenario('replay', scenario);
  const cfg = replayConfig(s.lockdep, s.maxSteps, false);
  const res = await runOnce(scenario, new ReplayPolicy(s.choices), cfg);
  if (res.failed) throw res.failure;
}

/**
 * Runs `schedule` twice and fails if the runnable sets differ at any step: the
 * scenario depends on something outside the runtime (shared state that leaks between
 * runs, a clock, Math.random).
 *
 * @throws RuntimeViolation `nondeterminism`; KernelError EINVAL on a malformed schedule.
 */
export async function checkDeterminism(schedule: string, scenario: Scenario): Promise<void> {
  const s = parseSchedule(schedule);
  checkScenario('checkDeterminism', scenario);
  const policy = new ReplayPolicy(s.choices);
  const cfg = replayConfig(s.lockdep, s.maxSteps, true);
  const a = await runOnce(scenario, policy, cfg);
  const b = await runOnce(scenario, policy, cfg);
  const diff = firstDifference(a.signature!, b.signature!);
  if (diff !== undefined) throw new RuntimeViolation('nondeterminism', diff);
}

/**
 * explore() for tests: resolves with the result if no schedule fails, otherwise throws
 * an Error whose message holds the failure and the replay line (`cause`: the error).
 */
export async function exploreOrThrow(
  scenario: Scenario,
  opts: ExploreOptions,
): Promise<ExploreResult> {
  const res = await explore(scenario, opts);
  if (res.failure) {
    const f = res.failure;
    const msg = f.error instanceof Error ? f.error.message : String(f.error);
    throw new Error(
      `schedule ${f.schedule} failed after ${res.runs} runs: ${msg}\n  replay: ${f.replay}`,
      {
        cause: f.error,
      },
    );
  }
  return res;
}

function makePolicy(o: Checked): ExplorePolicy {
  if (o.policy === 'random') return new RandomPolicy(o.seed);
  if (o.policy === 'pct') return new PctPolicy(o.seed, o.depth);
  return new DfsPolicy(o.bound);
}

async function compareReplay(scenario: Scenario, o: Checked, first: RunResult): Promise<RunResult> {
  const again = await runOnce(scenario, new ReplayPolicy(first.choices), o.cfg);
  const diff = firstDifference(first.signature!, again.signature!);
  if (diff === undefined) return again.failed ? again : first;
  return { ...first, failed: true, failure: new RuntimeViolation('nondeterminism', diff) };
}

function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return `runnable sets differ between two runs of the same schedule: step ${a[i] ?? '(end)'} vs ${b[i] ?? '(end)'}`;
    }
  }
  return undefined;
}

/** Failure identity for shrinking: the violation kind, else the error's name and message. */
function signatureOf(e: unknown): string {
  if (e instanceof RuntimeViolation) return `violation:${e.kind}`;
  if (e instanceof Error) return `${e.name}:${e.message}`;
  return `value:${String(e)}`;
}

/** Drops choices one at a time (latest first) while the run still fails the same way. */
async function shrink(scenario: Scenario, o: Checked, found: RunResult): Promise<ScheduleFailure> {
  const want = signatureOf(found.failure);
  let best = found;
  // A stray await leaves a task running outside the scheduler: replaying is unsafe.
  let budget = want === 'violation:stray-await' ? 0 : SHRINK_BUDGET;
  let progress = true;
  while (progress && budget > 0) {
    progress = false;
    for (let i = best.choices.length - 1; i >= 0 && budget > 0; i--) {
      const trial = best.choices.filter((_, j) => j !== i);
      budget--;
      const res = await runOnce(scenario, new ReplayPolicy(trial), { ...o.cfg, signature: false });
      if (
        res.failed &&
        signatureOf(res.failure) === want &&
        res.choices.length < best.choices.length
      ) {
        best = res;
        progress = true;
        break;
      }
    }
  }
  const schedule = scheduleOf(o, best.choices);
  // Nondeterminism shows only when a schedule runs twice: point at the call that does.
  const call = want === 'violation:nondeterminism' ? 'checkDeterminism' : 'replay';
  return { error: best.failure, schedule, replay: `${call}('${schedule}', scenario)` };
}

function scheduleOf(o: Checked, choices: Array<[number, number]>): string {
  const { policy, seed, cfg } = o;
  return formatSchedule({ policy, seed, choices, lockdep: cfg.lockdep, maxSteps: cfg.maxSteps });
}

function replayConfig(lockdep: boolean, maxSteps: number, signature: boolean): RunConfig {
  if (rt.explore) throw new KernelError('EBUSY', 'replay: called inside an explorer run');
  return { maxSteps, lockdep, signature };
}

function checkScenario(fn: string, scenario: unknown): void {
  if (typeof scenario !== 'function') throw invalid(fn, 'scenario', 'must be a function', scenario);
}

function checkOptions(scenario: Scenario, opts: ExploreOptions): Checked {
  checkScenario('explore', scenario);
  if (typeof opts !== 'object' || opts === null)
    throw invalid('explore', 'opts', 'must be an object', opts);
  if (rt.explore) throw new KernelError('EBUSY', 'explore: called inside an explorer run');
  const { policy } = opts;
  if (policy !== 'random' && policy !== 'pct' && policy !== 'dfs') {
    throw invalid('explore', 'opts.policy', "must be 'random', 'pct' or 'dfs'", policy);
  }
  const dflt = policy === 'dfs' ? 100000 : 1000;
  const { onRun } = opts;
  if (onRun !== undefined && typeof onRun !== 'function') {
    throw invalid('explore', 'opts.onRun', 'must be a function', onRun);
  }
  return {
    onRun,
    policy,
    seed: intOpt('seed', opts.seed, 0, 0, 0xffffffff),
    runs: intOpt('runs', opts.runs, dflt, 1, 1e9),
    bound: intOpt('preemptionBound', opts.preemptionBound, 2, 0, 16),
    depth: intOpt('depth', opts.depth, 3, 1, 64),
    cfg: {
      maxSteps: intOpt('maxSteps', opts.maxSteps, DEFAULT_MAX_STEPS, 1, 1e8),
      lockdep: boolOpt('lockdep', opts.lockdep, true),
      signature: boolOpt('determinism', opts.determinism, false),
    },
  };
}

function intOpt(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid('explore', `opts.${name}`, `must be an integer in [${min}, ${max}]`, v);
  }
  return v;
}

function boolOpt(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalid('explore', `opts.${name}`, 'must be a boolean', v);
  return v;
}
