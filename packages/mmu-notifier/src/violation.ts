import { RuntimeViolation, type ViolationKind } from '@hmmkit/runtime';

/** Reports a broken rule the way the runtime reports its own: a thrown RuntimeViolation. */
export function violation(kind: ViolationKind, message: string): never {
  throw new RuntimeViolation(kind, message);
}

/** The kernel's WARN_ON(): a contract broken by a caller or a callback. */
export function warnOn(cond: boolean, message: string): void {
  if (cond) violation('assertion', message);
}
