import { RuntimeViolation } from '../src/index.js';

/** The kind of the RuntimeViolation `fn` throws, or undefined when it returns normally. */
export function violationKind(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RuntimeViolation) return e.kind;
    throw e;
  }
  return undefined;
}
