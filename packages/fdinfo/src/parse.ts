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
 *
 * The scanner parses every DRM fdinfo on every refresh, so the line loop works on
 * indices into the text (no per-line regex, no split).
 */
import { record, slot } from './records.js';
import { type FdinfoIssue, FdinfoSyntaxError } from './syntax-error.js';
import type { DrmEngineStats, DrmFdinfo, DrmMemoryStats, ParseFdinfoOptions } from './types.js';
import { FREQ_UNITS, MEMORY_UNITS } from './units.js';

type MemoryField = keyof DrmMemoryStats;
type CounterField = 'busyNs' | 'cycles' | 'totalCycles';

const WHITESPACE = /\s/;
const TAB = 9;
const SPACE = 32;

/** Parser state for one text; `vs`..`ve` delimit the current value, `ds`..`de` its digits. */
interface ParseState {
  text: string;
  info: DrmFdinfo;
  issues: FdinfoIssue[] | undefined;
  lineNo: number;
  lineStart: number;
  lineEnd: number;
  vs: number;
  ve: number;
  legacy: Map<string, number> | undefined;
  seenDriver: boolean;
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
  const st: ParseState = {
    text,
    info: { driver: '', engines: record(), memory: record(), other: record() },
    issues: readStrict(opts) ? [] : undefined,
    lineNo: 0,
    lineStart: 0,
    lineEnd: 0,
    vs: 0,
    ve: 0,
    legacy: undefined,
    seenDriver: false,
  };
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    st.lineNo++;
    st.lineStart = start;
    st.lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    start = end + 1;
    if (st.lineEnd > st.lineStart) parseLine(st);
  }
  if (st.issues !== undefined && st.issues.length > 0) throw new FdinfoSyntaxError(st.issues);
  if (!st.seenDriver) return undefined;
  applyLegacyMemory(st);
  return st.info;
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

function parseLine(st: ParseState): undefined {
  const { text } = st;
  const colon = text.indexOf(':', st.lineStart);
  if (colon < 0 || colon >= st.lineEnd) return issue(st, 'no ":" delimiter');
  if (colon === st.lineStart) return issue(st, 'empty key');
  const key = text.slice(st.lineStart, colon);
  let vs = colon + 1;
  let ve = st.lineEnd;
  while (vs < ve && isBlank(text.charCodeAt(vs))) vs++;
  while (ve > vs && isBlank(text.charCodeAt(ve - 1))) ve--;
  st.vs = vs;
  st.ve = ve;
  if (hasWhitespace(text, st.lineStart, colon)) {
    keepOther(st, key);
    return issue(st, 'key contains whitespace');
  }
  if (key.startsWith('drm-')) parseDrmKey(st, key);
  else keepOther(st, key);
}

/** Same answer as /\s/ on text[from, to), without the regex on the common ASCII path. */
function hasWhitespace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || (c >= TAB && c <= 13)) return true;
    if (c >= 0x80 && WHITESPACE.test(text[i]!)) return true;
  }
  return false;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Dispatches on the family word between `drm-` and the next dash (`engine`, `total`, ...). */
function parseDrmKey(st: ParseState, key: string): undefined {
  const dash = key.indexOf('-', 4);
  const name = dash < 0 ? '' : key.slice(dash + 1);
  switch (dash < 0 ? key : key.slice(4, dash)) {
    case 'drm-driver':
      return setString(st, 'driver');
    case 'drm-pdev':
      return setString(st, 'pdev');
    case 'client':
      if (key === 'drm-client-id') return parseClientId(st);
      if (key === 'drm-client-name') return setString(st, 'clientName');
      break;
    case 'engine':
      if (name.startsWith('capacity-')) return parseCapacity(st, name.slice(9));
      return parseCounter(st, name, 'busyNs');
    case 'cycles':
      return parseCounter(st, name, 'cycles');
    case 'total':
      if (name.startsWith('cycles-')) return parseCounter(st, name.slice(7), 'totalCycles');
      return parseMemory(st, name, 'total');
    case 'maxfreq':
      return parseMaxFreq(st, name);
    case 'memory':
      return parseLegacyMemory(st, name);
    case 'shared':
    case 'active':
    case 'resident':
    case 'purgeable':
      return parseMemory(st, name, key.slice(4, dash) as MemoryField);
  }
  keepOther(st, key);
}

function value(st: ParseState): string {
  return st.text.slice(st.vs, st.ve);
}

function setString(st: ParseState, field: 'driver' | 'pdev' | 'clientName'): undefined {
  const dup = field === 'driver' ? st.seenDriver : st.info[field] !== undefined;
  if (dup) return issue(st, `duplicate ${keyOf(st)}`);
  if (st.vs === st.ve) return issue(st, `empty value for ${keyOf(st)}`);
  st.info[field] = value(st);
  if (field === 'driver') st.seenDriver = true;
}

/**
 * Splits the value into digits and unit: returns the end of the leading digit run
 * (== st.vs when there is none) and leaves the unit start in the second slot.
 */
function digits(st: ParseState): [number, string] {
  const { text } = st;
  let i = st.vs;
  while (i < st.ve) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  let u = i;
  if (u < st.ve && !isBlank(text.charCodeAt(u))) return [st.vs, '']; // "12x": not a number
  while (u < st.ve && isBlank(text.charCodeAt(u))) u++;
  return [i, text.slice(u, st.ve)];
}

function parseClientId(st: ParseState): undefined {
  if (st.info.clientId !== undefined) return issue(st, 'duplicate drm-client-id');
  const [end, unit] = digits(st);
  if (end === st.vs || unit !== '')
    return issue(st, `drm-client-id is not an unsigned integer: ${value(st)}`);
  st.info.clientId = BigInt(value(st)).toString();
}

function parseCapacity(st: ParseState, name: string): undefined {
  if (name === '') return issue(st, 'empty engine name');
  const [end, unit] = digits(st);
  if (end === st.vs || unit !== '')
    return issue(st, `capacity is not an unsigned integer: ${value(st)}`);
  const n = Number(value(st));
  if (n === 0 || !Number.isSafeInteger(n)) return issue(st, `capacity out of range: ${value(st)}`);
  const e = engine(st, name);
  if (e.capacity !== undefined) return issue(st, `duplicate capacity for engine ${name}`);
  e.capacity = n;
}

function parseCounter(st: ParseState, name: string, field: CounterField): undefined {
  if (name === '') return issue(st, 'empty engine name');
  const [end, unit] = digits(st);
  const unitOk = unit === '' || (unit === 'ns' && field === 'busyNs');
  if (end === st.vs || !unitOk) return issue(st, `bad counter value: ${value(st)}`);
  const e = engine(st, name);
  const prev = e[field];
  if (field === 'totalCycles' && prev !== undefined) {
    return issue(st, `duplicate total-cycles for engine ${name}`);
  }
  const n = BigInt(st.text.slice(st.vs, end));
  e[field] = prev === undefined ? n : prev + n;
}

function parseMaxFreq(st: ParseState, name: string): undefined {
  if (name === '') return issue(st, 'empty engine name');
  const [end, unit] = digits(st);
  const mult = FREQ_UNITS[unit === '' ? 'Hz' : unit];
  const hz =
    end === st.vs || mult === undefined ? Number.NaN : Number(st.text.slice(st.vs, end)) * mult;
  if (!Number.isSafeInteger(hz)) return issue(st, `bad maxfreq value: ${value(st)}`);
  const e = engine(st, name);
  if (e.maxFreqHz !== undefined) return issue(st, `duplicate maxfreq for engine ${name}`);
  e.maxFreqHz = hz;
}

function parseMemory(st: ParseState, region: string, field: MemoryField): undefined {
  if (region === '') return issue(st, 'empty region name');
  const bytes = parseBytes(st);
  if (bytes === undefined) return issue(st, `bad memory value: ${value(st)}`);
  const r = slot(st.info.memory, region);
  if (r[field] !== undefined) return issue(st, `duplicate ${field} for region ${region}`);
  r[field] = bytes;
}

function parseLegacyMemory(st: ParseState, region: string): undefined {
  if (region === '') return issue(st, 'empty region name');
  const bytes = parseBytes(st);
  if (bytes === undefined) return issue(st, `bad memory value: ${value(st)}`);
  st.legacy ??= new Map();
  if (st.legacy.has(region)) return issue(st, `duplicate drm-memory-${region}`);
  st.legacy.set(region, bytes);
}

/** drm-memory-<region> is an alias of drm-resident-<region>; an explicit resident line wins. */
function applyLegacyMemory(st: ParseState): undefined {
  if (st.legacy === undefined) return;
  for (const [region, bytes] of st.legacy) {
    const r = slot(st.info.memory, region);
    r.resident ??= bytes;
  }
}

function parseBytes(st: ParseState): number | undefined {
  const [end, unit] = digits(st);
  const mult = MEMORY_UNITS[unit];
  if (end === st.vs || mult === undefined) return undefined;
  const n = Number(st.text.slice(st.vs, end)) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

function engine(st: ParseState, name: string): DrmEngineStats {
  return slot(st.info.engines, name);
}

function keepOther(st: ParseState, key: string): undefined {
  if (st.info.other[key] === undefined) st.info.other[key] = value(st);
}

function issue(st: ParseState, reason: string): undefined {
  if (st.issues === undefined) return;
  const text = st.text.slice(st.lineStart, Math.min(st.lineEnd, st.lineStart + 200));
  st.issues.push({ line: st.lineNo, text, reason });
}

function keyOf(st: ParseState): string {
  return st.text.slice(st.lineStart, st.text.indexOf(':', st.lineStart));
}

/** Short description of a bad argument for error messages. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}
