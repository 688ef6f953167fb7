/** Argument checks shared by the public entry points; each names the argument and value. */
import { PAGE_SIZE, TASK_SIZE } from '@hmmkit/mm';
import { KernelError } from '@hmmkit/runtime';

/** Printable form of a bad value. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

/** KernelError EINVAL naming the function, the argument and the value. */
export function invalid(fn: string, arg: string, rule: string, v: unknown): KernelError {
  return new KernelError('EINVAL', `${fn}: ${arg} must be ${rule}, got ${show(v)}`);
}

/** A user virtual address below TASK_SIZE. */
export function checkAddr(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= TASK_SIZE)
    throw invalid(fn, arg, `an integer address in [0, 2^47)`, v);
  return v;
}

/** A page-aligned user virtual address. */
export function checkPageAddr(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= TASK_SIZE || v % PAGE_SIZE)
    throw invalid(fn, arg, 'a page-aligned address in [0, 2^47)', v);
  return v;
}

/** An integer in [min, max]. */
export function checkInt(fn: string, arg: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw invalid(fn, arg, `an integer in [${min}, ${max}]`, v);
  return v;
}

/** A non-empty name without whitespace or ':' (it ends up in an fdinfo key). */
export function checkName(fn: string, arg: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[^\s:]+$/.test(v))
    throw invalid(fn, arg, "a non-empty string without whitespace or ':'", v);
  return v;
}

/** A Uint8Array. */
export function checkBytes(fn: string, arg: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(fn, arg, 'a Uint8Array', v);
  return v;
}
