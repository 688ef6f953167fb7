import { rt } from './runtime.js';
import { checkName } from './validate.js';

/**
 * Execution contexts of the current task: atomic (spinlock held or preemption
 * disabled) vs sleepable, and the non-blockable section the notifier core enters for
 * non-blockable invalidation ranges.
 */

/**
 * Asserts that the current task may sleep here. Mirrors might_sleep().
 *
 * **Context**: throws RuntimeViolation `sleep-in-atomic` with a spinlock held or
 * preemption disabled, `sleep-in-nonblock` between nonBlockStart() and nonBlockEnd();
 * KernelError EINVAL if `what` is given and is not a non-empty string.
 * Every sleeping primitive calls it, so user code only needs it on paths that sleep
 * conditionally.
 *
 * @example
 * ```ts
 * mightSleep('dmirror_fault'); // documents and checks that this path may block
 * ```
 */
export function mightSleep(what?: string): void {
  rt.mightSleep(what === undefined ? 'might_sleep()' : checkName('mightSleep', what, 'what'));
}

/** Whether the current task is in atomic context (preempt_count != 0). Mirrors in_atomic(). */
export function inAtomic(): boolean {
  return rt.current.preempt > 0;
}

/**
 * Enters a non-blockable section; nests. Mirrors non_block_start().
 *
 * **Context**: the notifier core wraps each callback of a non-blockable range in
 * nonBlockStart/End; any sleep inside is a `sleep-in-nonblock` violation.
 */
export function nonBlockStart(): void {
  rt.current.nonBlock++;
}

/**
 * Leaves a non-blockable section. Mirrors non_block_end().
 * @throws RuntimeViolation `lock-misuse` if the current task is not in one.
 */
export function nonBlockEnd(): void {
  const t = rt.current;
  if (t.nonBlock === 0) {
    throw rt.violation('lock-misuse', `nonBlockEnd() without nonBlockStart() in task ${t}`);
  }
  t.nonBlock--;
}

/** Whether the current task is inside a non-blockable section. */
export function inNonBlock(): boolean {
  return rt.current.nonBlock > 0;
}

/** Disables preemption for the current task (atomic context); nests. Mirrors preempt_disable(). */
export function preemptDisable(): void {
  rt.current.preempt++;
}

/**
 * Re-enables preemption. Mirrors preempt_enable().
 * @throws RuntimeViolation `lock-misuse` if preemption was not disabled.
 */
export function preemptEnable(): void {
  const t = rt.current;
  if (t.preempt === 0) {
    throw rt.violation('lock-misuse', `preemptEnable() with preempt_count=0 in task ${t}`);
  }
  t.preempt--;
}
