/*
 * DRM fdinfo formatter: prints the keys in the order drm_show_fdinfo() does
 * (driver, client id, pdev, client name), then per engine its ns / capacity / cycles /
 * total-cycles / maxfreq lines, then per region drm_print_memory_stats()'s lines, then
 * the other keys. Key and value are separated by ":\t" as in the kernel.
 *
 * Names that cannot round-trip are refused (RangeError): an engine called
 * `capacity-x` would read back as a capacity line, a region called `cycles-x` as a
 * total-cycles line.
 */
import { describe } from './parse.js';
import type { DrmEngineStats, DrmFdinfo, DrmMemoryStats } from './types.js';
import { formatSize } from './units.js';

const MEMORY_FIELDS = ['total', 'shared', 'active', 'resident', 'purgeable'] as const;
const NAME = /^[^\s:]+$/;
const VALUE = /^(?:\S|\S[^\n\r]*\S)$/;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Prints a DrmFdinfo as a driver's show_fdinfo would; the text parses back to an equal value.
 *
 * Mirrors drm_show_fdinfo() + drm_print_memory_stats() / drm_fdinfo_print_size().
 * **Context**: pure, synchronous.
 * @throws TypeError when `info` or one of its fields has the wrong type.
 * @throws RangeError when a name, value or counter cannot be printed so that it parses back
 * (whitespace or ':' in a name, counter outside u64, capacity 0, non-integer size, ...).
 * @example
 * formatFdinfo({ driver: 'msm', clientId: '7', engines: { gpu: { busyNs: 1734371319n } },
 *   memory: {}, other: {} }); // 'drm-driver:\tmsm\ndrm-client-id:\t7\ndrm-engine-gpu:\t1734371319 ns\n'
 */
export function formatFdinfo(info: DrmFdinfo): string {
  if (typeof info !== 'object' || info === null) {
    throw new TypeError(`formatFdinfo: info must be an object, got ${describe(info)}`);
  }
  const out: string[] = [];
  out.push(line('drm-driver', checkValue('driver', info.driver)));
  if (info.clientId !== undefined) out.push(line('drm-client-id', checkClientId(info.clientId)));
  if (info.pdev !== undefined) out.push(line('drm-pdev', checkValue('pdev', info.pdev)));
  if (info.clientName !== undefined) {
    out.push(line('drm-client-name', checkValue('clientName', info.clientName)));
  }
  for (const [name, e] of entries('engines', info.engines)) formatEngine(out, name, e);
  for (const [region, m] of entries('memory', info.memory)) formatMemory(out, region, m);
  for (const [key, value] of entries('other', info.other)) formatOther(out, key, value);
  return out.join('');
}

function line(key: string, value: string): string {
  return `${key}:\t${value}\n`;
}

function formatEngine(out: string[], name: string, e: DrmEngineStats): void {
  checkName('engine', name);
  if (name.startsWith('capacity-')) {
    throw new RangeError(
      `formatFdinfo: engine name ${describe(name)} reads back as a capacity key`,
    );
  }
  if (e.busyNs !== undefined) out.push(line(`drm-engine-${name}`, `${u64('busyNs', e.busyNs)} ns`));
  if (e.capacity !== undefined) {
    const c = e.capacity;
    if (!Number.isSafeInteger(c) || c <= 0) {
      throw new RangeError(
        `formatFdinfo: engines.${name}.capacity must be an integer > 0, got ${c}`,
      );
    }
    out.push(line(`drm-engine-capacity-${name}`, `${c}`));
  }
  if (e.cycles !== undefined) out.push(line(`drm-cycles-${name}`, `${u64('cycles', e.cycles)}`));
  if (e.totalCycles !== undefined) {
    out.push(line(`drm-total-cycles-${name}`, `${u64('totalCycles', e.totalCycles)}`));
  }
  if (e.maxFreqHz !== undefined) {
    out.push(line(`drm-maxfreq-${name}`, `${uint(`engines.${name}.maxFreqHz`, e.maxFreqHz)} Hz`));
  }
}

function formatMemory(out: string[], region: string, m: DrmMemoryStats): void {
  checkName('region', region);
  if (region.startsWith('cycles-')) {
    throw new RangeError(
      `formatFdinfo: region name ${describe(region)} reads back as total-cycles`,
    );
  }
  for (const f of MEMORY_FIELDS) {
    const v = m[f];
    if (v !== undefined) out.push(line(`drm-${f}-${region}`, formatSize(uint(`memory.${f}`, v))));
  }
}

function formatOther(out: string[], key: string, value: string): void {
  checkName('other key', key);
  if (isStandardKey(key)) {
    throw new RangeError(`formatFdinfo: other key ${describe(key)} is a standard key`);
  }
  if (typeof value !== 'string' || (value !== '' && !VALUE.test(value))) {
    throw new RangeError(
      `formatFdinfo: other.${key} ${describe(value)} has a line break or edge whitespace`,
    );
  }
  out.push(line(key, value));
}

const STANDARD_PREFIXES = [
  'drm-engine-',
  'drm-cycles-',
  'drm-total-',
  'drm-maxfreq-',
  'drm-memory-',
  'drm-shared-',
  'drm-active-',
  'drm-resident-',
  'drm-purgeable-',
];

function isStandardKey(key: string): boolean {
  if (['drm-driver', 'drm-pdev', 'drm-client-id', 'drm-client-name'].includes(key)) return true;
  return STANDARD_PREFIXES.some((p) => key.startsWith(p));
}

function entries<T>(what: string, rec: Record<string, T>): Array<[string, T]> {
  if (typeof rec !== 'object' || rec === null) {
    throw new TypeError(`formatFdinfo: info.${what} must be an object, got ${describe(rec)}`);
  }
  return Object.entries(rec);
}

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    throw new RangeError(
      `formatFdinfo: ${what} name ${describe(name)} is empty or has ':' or whitespace`,
    );
  }
}

function checkValue(what: string, v: unknown): string {
  if (typeof v !== 'string')
    throw new TypeError(`formatFdinfo: ${what} must be a string, got ${describe(v)}`);
  if (!VALUE.test(v)) {
    throw new RangeError(
      `formatFdinfo: ${what} ${describe(v)} is empty, has a line break or edge whitespace`,
    );
  }
  return v;
}

function checkClientId(v: unknown): string {
  if (typeof v !== 'string' || !/^(?:0|[1-9]\d*)$/.test(v) || BigInt(v) > U64_MAX) {
    throw new RangeError(
      `formatFdinfo: clientId must be a canonical decimal u64, got ${describe(v)}`,
    );
  }
  return v;
}

function u64(what: string, v: unknown): bigint {
  if (typeof v !== 'bigint')
    throw new TypeError(`formatFdinfo: ${what} must be a bigint, got ${describe(v)}`);
  if (v < 0n || v > U64_MAX) throw new RangeError(`formatFdinfo: ${what} outside u64: ${v}`);
  return v;
}

function uint(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`formatFdinfo: ${what} must be a safe integer >= 0, got ${describe(v)}`);
  }
  return v;
}
