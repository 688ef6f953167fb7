import { rt } from './runtime.js';
import { checkName, invalid } from './validate.js';
import type { RuntimeViolation, ViolationKind } from './violation.js';

const KINDS: ReadonlySet<string> = new Set<ViolationKind>([
  'sleep-in-atomic',
  'sleep-in-nonblock',
  'lock-order',
  'reclaim-under-lock',
  'lock-misuse',
  'deadlock',
  'stray-await',
  'use-after-free',
  'assertion',
  'livelock',
  'nondeterminism',
]);

/**
 * Reports a rule break that a package or a driver detects itself (its own WARN_ON()),
 * and returns the violation for the caller to throw. Mirrors WARN().
 *
 * **Details**: inside an explorer run the violation becomes the run's failure even if
 * whoever catches the thrown error swallows it, exactly like the runtime's own
 * might_sleep and lockdep reports; a trace sink sees a `violation` event.
 *
 * **Context**: any; never sleeps.
 *
 * @throws KernelError EINVAL for an unknown `kind` or an empty `message`.
 * @example
 * ```ts
 * if (staleDma) throw reportViolation('assertion', `DMA through a stale translation at ${va}`);
 * ```
 */
export function reportViolation(kind: ViolationKind, message: string): RuntimeViolation {
  if (typeof kind !== 'string' || !KINDS.has(kind))
    throw invalid('reportViolation', 'kind', 'must be a ViolationKind', kind);
  checkName('reportViolation', message, 'message');
  return rt.violation(kind, message);
}
