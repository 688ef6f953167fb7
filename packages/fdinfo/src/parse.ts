/*
 * DRM fdinfo parser (kernel Documentation/gpu/drm-usage-stats.rst, "File format
 * specification"): one `key: value` pair per line, `:` delimits, whitespace after
 * the delimiter is ignored, numeric values may end with a unit. Keys this parser
 * does not interpret are kept verbatim in `other`.
 *
 * Decisions where the spec leaves room:
 * - `drm-memory-<region>` is deprecated and, per the clarified spec text, an alias of
 *   `drm-resident-<region>`; it fills `memory[region].resident` only when the file has
 *   no `drm-resident-<region>` line (an explicit resident line wins, in any order).
 * - A repeated `drm-engine-<e>` / `drm-cycles-<e>` line is summed: amdgpu's name table
 *   maps two IP blocks to `dec` and to `enc`. Any other repeated key keeps the first
 *   value (a strict parse reports it).
 * - Tolerant mode (default) skips malformed lines and never throws on a string input.
 */
import { type FdinfoIssue, FdinfoSyntaxError } from './syntax-error.js';
import type { DrmEngineStats, DrmFdinfo, DrmMemoryStats, ParseFdinfoOptions } from './types.js';
import { FREQ_UNITS, MEMORY_UNITS } from './units.js';

type MemoryField = keyof DrmMemoryStats;

const MEMORY_PREFIXES: ReadonlyArray<readonly [string, MemoryField]> = [
  ['drm-total-', 'total'],
  ['drm-shared-', 'shared'],
  ['drm-active-', 'active'],
  ['drm-resident-', 'resident'],
  ['drm-purgeable-', 'purgeable'],
];

const UINT_WITH_UNIT = /^(\d+)(?:[ \t]+(\S+))?[ \t]*$/;
const WHITESPACE = /\s/;

interface ParseState {
  info: DrmFdinfo;
  issues: FdinfoIssue[] | undefined;
  lineNo: number;
  line: string;
  legacy: Map<string, number> | undefined;
}

/**
 * Parses the text of `/proc/<pid>/fdinfo/<fd>`; returns undefined when it is not a DRM client.
 *
 * Mirrors the format that drm_show_fdinfo() and the drivers' show_fdinfo callbacks print.
 * **Context**: pure, synchronous, allocation proportional to the text.
 * @throws TypeError when `text` is not a string or `opts` is not an object.
 * @throws FdinfoSyntaxError in strict mode, listing every malformed line with its number.
 * @example
 * const info = parseFdinfo('drm-driver:\ti915\ndrm-engine-render:\t9288864723 ns\n');
 * info?.engines.render?.busyNs; // 9288864723n
 */
export function parseFdinfo(text: string, opts?: ParseFdinfoOptions): DrmFdinfo | undefined {
  if (typeof text !== 'string') {
    throw new TypeError(`parseFdinfo: text must be a string, got ${describe(text)}`);
  }
  const strict = readStrict(opts);
  const st: ParseState = {
    info: emptyInfo(),
    issues: strict ? [] : undefined,
    lineNo: 0,
    line: '',
    legacy: undefined,
  };
  let seenDriver = false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    st.lineNo++;
    st.line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (st.line.length === 0) continue;
    if (parseLine(st)) seenDriver = true;
  }
  if (st.issues !== undefined && st.issues.length > 0) throw new FdinfoSyntaxError(st.issues);
  if (!seenDriver) return undefined;
  applyLegacyMemory(st);
  return st.info;
}

/** Records have no prototype: hostile names such as `__proto__` stay plain keys. */
function emptyInfo(): DrmFdinfo {
  return {
    driver: '',
    engines: Object.create(null),
    memory: Object.create(null),
    other: Object.create(null),
  };
}

function readStrict(opts: ParseFdinfoOptions | undefined): boolean {
  if (opts === undefined) return false;
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`parseFdinfo: opts must be an object, got ${describe(opts)}`);
  }
  if (opts.strict !== undefined && typeof opts.strict !== 'boolean') {
    throw new TypeError(`parseFdinfo: opts.strict must be a boolean, got ${describe(opts.strict)}`);
  }
  return opts.strict === true;
}

/** Returns true when the line was a valid drm-driver line. */
function parseLine(st: ParseState): boolean {
  const colon = st.line.indexOf(':');
  if (colon <= 0) return issue(st, colon === 0 ? 'empty key' : 'no ":" delimiter');
  const key = st.line.slice(0, colon);
  const value = st.line
    .slice(colon + 1)
    .replace(/^[ \t]+/, '')
    .replace(/[ \t]+$/, '');
  if (WHITESPACE.test(key)) {
    keepOther(st, key, value);
    return issue(st, 'key contains whitespace');
  }
  if (!key.startsWith('drm-')) return keepOther(st, key, value);
  return parseDrmKey(st, key, value);
}

function parseDrmKey(st: ParseState, key: string, value: string): boolean {
  switch (key) {
    case 'drm-driver':
      return setString(st, 'driver', value, st.info.driver !== '');
    case 'drm-pdev':
      return setString(st, 'pdev', value, st.info.pdev !== undefined);
    case 'drm-client-name':
      return setString(st, 'clientName', value, st.info.clientName !== undefined);
    case 'drm-client-id':
      return parseClientId(st, value);
  }
  if (key.startsWith('drm-engine-capacity-')) return parseCapacity(st, key.slice(20), value);
  if (key.startsWith('drm-engine-')) return parseCounter(st, key.slice(11), value, 'busyNs');
  if (key.startsWith('drm-total-cycles-')) {
    return parseCounter(st, key.slice(17), value, 'totalCycles');
  }
  if (key.startsWith('drm-cycles-')) return parseCounter(st, key.slice(11), value, 'cycles');
  if (key.startsWith('drm-maxfreq-')) return parseMaxFreq(st, key.slice(12), value);
  if (key.startsWith('drm-memory-')) return parseLegacyMemory(st, key.slice(11), value);
  for (const [prefix, field] of MEMORY_PREFIXES) {
    if (key.startsWith(prefix)) return parseMemory(st, key.slice(prefix.length), value, field);
  }
  return keepOther(st, key, value);
}

function setString(
  st: ParseState,
  field: 'driver' | 'pdev' | 'clientName',
  value: string,
  duplicate: boolean,
): boolean {
  if (duplicate) return issue(st, `duplicate ${keyOf(st)}`);
  if (value === '') return issue(st, `empty value for ${keyOf(st)}`);
  st.info[field] = value;
  return field === 'driver';
}

function parseClientId(st: ParseState, value: string): boolean {
  if (st.info.clientId !== undefined) return issue(st, 'duplicate drm-client-id');
  if (!/^\d+$/.test(value)) return issue(st, `drm-client-id is not an unsigned integer: ${value}`);
  st.info.clientId = BigInt(value).toString();
  return false;
}

function parseCapacity(st: ParseState, name: string, value: string): boolean {
  if (name === '') return issue(st, 'empty engine name');
  if (!/^\d+$/.test(value)) return issue(st, `capacity is not an unsigned integer: ${value}`);
  const n = Number(value);
  if (n === 0 || !Number.isSafeInteger(n)) return issue(st, `capacity out of range: ${value}`);
  const e = engine(st, name);
  if (e.capacity !== undefined) return issue(st, `duplicate capacity for engine ${name}`);
  e.capacity = n;
  return false;
}

function parseCounter(
  st: ParseState,
  name: string,
  value: string,
  field: 'busyNs' | 'cycles' | 'totalCycles',
): boolean {
  if (name === '') return issue(st, 'empty engine name');
  const m = UINT_WITH_UNIT.exec(value);
  const unit = m?.[2];
  const unitOk = field === 'busyNs' ? unit === undefined || unit === 'ns' : unit === undefined;
  if (m === null || !unitOk) return issue(st, `bad counter value: ${value}`);
  const e = engine(st, name);
  const prev = e[field];
  if (field === 'totalCycles' && prev !== undefined) {
    return issue(st, `duplicate total-cycles for engine ${name}`);
  }
  e[field] = (prev ?? 0n) + BigInt(m[1]!);
  return false;
}

function parseMaxFreq(st: ParseState, name: string, value: string): boolean {
  if (name === '') return issue(st, 'empty engine name');
  const m = UINT_WITH_UNIT.exec(value);
  const mult = m === null ? undefined : FREQ_UNITS[m[2] ?? 'Hz'];
  const hz = m === null || mult === undefined ? Number.NaN : Number(m[1]) * mult;
  if (!Number.isSafeInteger(hz)) return issue(st, `bad maxfreq value: ${value}`);
  const e = engine(st, name);
  if (e.maxFreqHz !== undefined) return issue(st, `duplicate maxfreq for engine ${name}`);
  e.maxFreqHz = hz;
  return false;
}

function parseMemory(st: ParseState, region: string, value: string, field: MemoryField): boolean {
  if (region === '') return issue(st, 'empty region name');
  const bytes = parseBytes(value);
  if (bytes === undefined) return issue(st, `bad memory value: ${value}`);
  const r = slot(st.info.memory, region);
  if (r[field] !== undefined) return issue(st, `duplicate ${field} for region ${region}`);
  r[field] = bytes;
  return false;
}

function parseLegacyMemory(st: ParseState, region: string, value: string): boolean {
  if (region === '') return issue(st, 'empty region name');
  const bytes = parseBytes(value);
  if (bytes === undefined) return issue(st, `bad memory value: ${value}`);
  st.legacy ??= new Map();
  if (st.legacy.has(region)) return issue(st, `duplicate drm-memory-${region}`);
  st.legacy.set(region, bytes);
  return false;
}

/** drm-memory-<region> is an alias of drm-resident-<region>; an explicit resident line wins. */
function applyLegacyMemory(st: ParseState): void {
  if (st.legacy === undefined) return;
  for (const [region, bytes] of st.legacy) {
    const r = slot(st.info.memory, region);
    r.resident ??= bytes;
  }
}

function parseBytes(value: string): number | undefined {
  const m = UINT_WITH_UNIT.exec(value);
  if (m === null) return undefined;
  const mult = MEMORY_UNITS[m[2] ?? ''];
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

function engine(st: ParseState, name: string): DrmEngineStats {
  return slot(st.info.engines, name);
}

/** The record's own entry for `name`, created empty when missing. */
export function slot<T extends object>(rec: Record<string, T>, name: string): T {
  let v = Object.hasOwn(rec, name) ? rec[name] : undefined;
  if (v === undefined) {
    v = {} as T;
    Object.defineProperty(rec, name, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return v;
}

function keepOther(st: ParseState, key: string, value: string): false {
  if (!Object.hasOwn(st.info.other, key)) {
    Object.defineProperty(st.info.other, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return false;
}

function issue(st: ParseState, reason: string): false {
  st.issues?.push({ line: st.lineNo, text: st.line.slice(0, 200), reason });
  return false;
}

function keyOf(st: ParseState): string {
  return st.line.slice(0, st.line.indexOf(':'));
}

/** Short description of a bad argument for error messages. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}
