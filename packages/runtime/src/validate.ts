import { KernelError } from './errors.js';

/**
 * Argument checks shared by every public entry point. Convention: bad input to the
 * runtime throws `KernelError('EINVAL')` naming the function, the argument and its value.
 */

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

export function invalid(fn: string, arg: string, why: string, value: unknown): KernelError {
  return new KernelError('EINVAL', `${fn}: ${arg} ${why}, got ${describe(value)}`);
}

export function checkName(fn: string, name: unknown, arg = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalid(fn, arg, 'must be a non-empty string', name);
  }
  return name;
}

export function checkFunction(fn: string, arg: string, value: unknown): void {
  if (typeof value !== 'function') throw invalid(fn, arg, 'must be a function', value);
}

export function checkInt(
  fn: string,
  arg: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(fn, arg, `must be an integer in [${min}, ${max}]`, value);
  }
  return value;
}
