import { KernelError } from '../errors.js';

/**
 * Schedule strings: `<policy>:<seed>:<choices>`, e.g. `pct:42:7>2.19>1`.
 *
 * `choices` lists only the steps where the run departed from the default (keep the
 * current task at a preemption point; otherwise the oldest other runnable task;
 * see SPIN_LIMIT in runtime.ts for polling tasks):
 * `7>2` means "at scheduling step 7 run task 2". `-` means no departure. Task ids
 * count spawns from 0 (the scenario itself is task 0). Policy and seed say where the
 * schedule came from; replay needs only the choices. Optional suffixes record run
 * settings that change the outcome: `:nolockdep`, `:max=<maxSteps>`.
 */

export type PolicyName = 'random' | 'pct' | 'dfs';

export interface Schedule {
  policy: PolicyName;
  seed: number;
  /** Pairs of (step, task id), steps ascending. */
  choices: Array<[number, number]>;
  /** Run settings that change the outcome, appended when not the default. */
  lockdep: boolean;
  maxSteps: number;
}

export const DEFAULT_MAX_STEPS = 10000;

const CHOICE = /^(\d+)>(\d+)$/;

export function formatSchedule(s: Schedule): string {
  const c = s.choices.length === 0 ? '-' : s.choices.map(([st, t]) => `${st}>${t}`).join('.');
  const lockdep = s.lockdep ? '' : ':nolockdep';
  const max = s.maxSteps === DEFAULT_MAX_STEPS ? '' : `:max=${s.maxSteps}`;
  return `${s.policy}:${s.seed}:${c}${lockdep}${max}`;
}

/** @throws KernelError EINVAL naming the part of the string that is malformed. */
export function parseSchedule(text: string): Schedule {
  if (typeof text !== 'string') throw bad('must be a string', text);
  const parts = text.split(':');
  if (parts.length < 3) throw bad('must have the form <policy>:<seed>:<choices>[:flags]', text);
  const [policy, seedText, choiceText] = parts as [string, string, string];
  let lockdep = true;
  let maxSteps = DEFAULT_MAX_STEPS;
  for (const flag of parts.slice(3)) {
    const max = /^max=(\d+)$/.exec(flag);
    if (flag === 'nolockdep') lockdep = false;
    else if (max && Number(max[1]) >= 1) maxSteps = Number(max[1]);
    else throw bad(`has an unknown flag ${JSON.stringify(flag)}`, text);
  }
  if (policy !== 'random' && policy !== 'pct' && policy !== 'dfs') {
    throw bad(`has unknown policy ${JSON.stringify(policy)}`, text);
  }
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || seed > 0xffffffff) throw bad('has a bad seed', text);
  const choices: Array<[number, number]> = [];
  if (choiceText !== '-') {
    let last = 0;
    for (const c of choiceText.split('.')) {
      const m = CHOICE.exec(c);
      if (!m) throw bad(`has a bad choice ${JSON.stringify(c)}`, text);
      const step = Number(m[1]);
      if (step <= last) throw bad('has choices out of step order', text);
      last = step;
      choices.push([step, Number(m[2])]);
    }
  }
  return { policy, seed, choices, lockdep, maxSteps };
}

function bad(why: string, text: unknown): KernelError {
  return new KernelError('EINVAL', `schedule ${why}, got ${JSON.stringify(text)}`);
}
