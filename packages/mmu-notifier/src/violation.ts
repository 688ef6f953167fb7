import { reportViolation, type ViolationKind } from '@hmmkit/runtime';

/**
 * Reports a broken rule the way the runtime reports its own: the violation is thrown
 * here and, in an explorer run, fails the schedule even if a caller catches it.
 */
export function violation(kind: ViolationKind, message: string): never {
  throw reportViolation(kind, message);
}

/** The kernel's WARN_ON(): a contract broken by a caller or a callback. */
export function warnOn(cond: boolean, message: string): void {
  if (cond) violation('assertion', message);
}
