/* Argument checks shared by scanClients() and DrmClientScanner. */
import { describe } from './parse.js';
import { nodeProcFs, type ProcFs } from './proc-fs.js';

export interface ValidScanOptions {
  procRoot: string;
  fs: ProcFs;
  maxBytes: number;
  cache: boolean;
  fullEvery: number;
}

const FS_METHODS = ['readdir', 'readlink', 'readInto', 'statDir', 'isProcfs'] as const;

/** Checks options and fills defaults; names the bad option and its value. */
export function validateScanOptions(fn: string, opts: unknown): ValidScanOptions {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${fn}: opts must be an object, got ${describe(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  return {
    procRoot: checkRoot(fn, o.procRoot ?? '/proc'),
    fs: checkFs(fn, o.fs ?? nodeProcFs),
    maxBytes: checkInt(fn, 'maxBytes', o.maxBytes ?? 65536, 256, 1 << 24),
    cache: checkBool(fn, 'cache', o.cache ?? true),
    fullEvery: checkInt(fn, 'fullEvery', o.fullEvery ?? 10, 1, 1 << 30),
  };
}

function checkRoot(fn: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) {
    throw new TypeError(`${fn}: procRoot must be a non-empty path string, got ${describe(v)}`);
  }
  return v.length > 1 && v.endsWith('/') ? v.replace(/\/+$/, '') || '/' : v;
}

function checkFs(fn: string, v: unknown): ProcFs {
  const o = v as Record<string, unknown> | null;
  if (typeof v !== 'object' || o === null || FS_METHODS.some((m) => typeof o[m] !== 'function')) {
    throw new TypeError(`${fn}: fs must implement ${FS_METHODS.join(', ')}, got ${describe(v)}`);
  }
  return v as ProcFs;
}

function checkInt(fn: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(
      `${fn}: ${name} must be an integer in [${min}, ${max}], got ${describe(v)}`,
    );
  }
  return v;
}

function checkBool(fn: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean')
    throw new TypeError(`${fn}: ${name} must be a boolean, got ${describe(v)}`);
  return v;
}
