/*
 * Engine utilisation between two samples of one client (Documentation/gpu/drm-usage-stats.rst):
 *
 *   cycles basis  (drm-cycles + drm-total-cycles, xe):  Δcycles / (Δtotal-cycles × capacity)
 *   ns basis      (drm-engine-<e> ns):                  Δbusy_ns / (Δwall_ns × capacity)
 *   maxfreq basis (drm-cycles + drm-maxfreq only):      Δcycles / (Δwall_s × maxfreq_Hz × capacity)
 *
 * The cycles basis is preferred when both samples have it (no CPU clock involved); a
 * client with ns and maxfreq (msm, panfrost) gets the ns figure, plus `atMaxFreq`, the
 * share of its maximum throughput. Results are clamped to [0, 1]: sampling jitter can
 * make a delta slightly exceed the wall interval (igt's gputop clamps too).
 *
 * A counter lower than before is a reset: that interval reports 0 with `reset: true`,
 * never a negative figure. DrmUsageTracker then keeps the larger previous value as the
 * baseline "until a monotonic update is seen", as the spec asks. An engine missing from
 * the previous sample counts from 0 for ns counters (amdgpu prints only engines that
 * have run); the cycles bases need both samples.
 */
import { own, record, slot } from './records.js';
import type { DrmClientSample, DrmEngineStats, DrmMemoryStats } from './types.js';

/** How an engine's utilisation was computed. */
export type UtilisationBasis = 'ns' | 'cycles' | 'maxfreq';

/** One engine over one interval. */
export interface EngineUtilisation {
  /** Busy fraction of the engine group, 0..1, already divided by capacity. */
  utilisation: number;
  basis: UtilisationBasis;
  capacity: number;
  /** A counter went backwards in this interval (reported as 0). */
  reset: boolean;
  /** Δcycles against the maximum frequency, when drm-maxfreq is printed (0..1). */
  atMaxFreq?: number;
}

/** One client over one interval. */
export interface ClientUsage {
  key: string;
  pid: number;
  comm?: string;
  driver: string;
  clientId?: string;
  intervalNs: bigint;
  engines: Record<string, EngineUtilisation>;
  /** Memory of the current sample, bytes per region. */
  memory: Record<string, DrmMemoryStats>;
}

/** Per process: the clients it owns (first holder), summed. */
export interface ProcessUsage {
  pid: number;
  comm?: string;
  clients: number;
  /** Sum of the owned clients' utilisation per engine name (can exceed 1 across devices). */
  engines: Record<string, number>;
  memory: Record<string, DrmMemoryStats>;
}

function clamp01(x: number): number {
  return Number.isNaN(x) ? 0 : Math.min(1, Math.max(0, x));
}

function delta(cur: bigint | undefined, prev: bigint | undefined): bigint | undefined {
  return cur === undefined || prev === undefined ? undefined : cur - prev;
}

/**
 * Utilisation of one engine between two readings taken `intervalNs` apart; undefined when
 * the two readings hold no counter pair to compare.
 *
 * Mirrors the formulas of Documentation/gpu/drm-usage-stats.rst (see file comment).
 * **Context**: pure.
 * @throws TypeError when `cur` is not an object or `intervalNs` is not a bigint.
 * @example
 * engineUtilisation({ busyNs: 0n }, { busyNs: 500_000_000n, capacity: 2 }, 1_000_000_000n);
 * // { utilisation: 0.25, basis: 'ns', capacity: 2, reset: false }
 */
export function engineUtilisation(
  prev: DrmEngineStats | undefined,
  cur: DrmEngineStats,
  intervalNs: bigint,
): EngineUtilisation | undefined {
  if (typeof cur !== 'object' || cur === null)
    throw new TypeError('engineUtilisation: cur must be an object');
  if (typeof intervalNs !== 'bigint')
    throw new TypeError('engineUtilisation: intervalNs must be a bigint');
  const capacity = cur.capacity ?? 1;
  const dCycles = delta(cur.cycles, prev?.cycles);
  const dTotal = delta(cur.totalCycles, prev?.totalCycles);
  if (dCycles !== undefined && dTotal !== undefined) {
    const reset = dCycles < 0n || dTotal < 0n;
    const u = reset || dTotal === 0n ? 0 : Number(dCycles) / Number(dTotal) / capacity;
    return { utilisation: clamp01(u), basis: 'cycles', capacity, reset };
  }
  const atMax = maxFreqShare(dCycles, cur.maxFreqHz, intervalNs, capacity);
  if (cur.busyNs !== undefined) {
    const d = cur.busyNs - (prev?.busyNs ?? 0n);
    const reset = d < 0n || (dCycles ?? 0n) < 0n;
    const u = reset || intervalNs <= 0n ? 0 : Number(d) / Number(intervalNs) / capacity;
    const r: EngineUtilisation = { utilisation: clamp01(u), basis: 'ns', capacity, reset };
    if (atMax !== undefined) r.atMaxFreq = reset ? 0 : atMax;
    return r;
  }
  if (atMax === undefined || dCycles === undefined) return undefined;
  const reset = dCycles < 0n;
  return { utilisation: reset ? 0 : atMax, basis: 'maxfreq', capacity, reset };
}

function maxFreqShare(
  dCycles: bigint | undefined,
  maxFreqHz: number | undefined,
  intervalNs: bigint,
  capacity: number,
): number | undefined {
  if (dCycles === undefined || maxFreqHz === undefined || maxFreqHz <= 0 || intervalNs <= 0n) {
    return undefined;
  }
  return clamp01((Number(dCycles) * 1e9) / (Number(intervalNs) * maxFreqHz * capacity));
}

/**
 * Usage of one client between two of its samples (same key), per engine, with its current memory.
 *
 * **Context**: pure.
 * @throws TypeError when the samples are not objects; RangeError when their keys differ or
 * `cur` is not later than `prev`.
 */
export function clientUsage(prev: DrmClientSample, cur: DrmClientSample): ClientUsage {
  checkSample('prev', prev);
  checkSample('cur', cur);
  if (prev.key !== cur.key)
    throw new RangeError(`clientUsage: keys differ: ${prev.key} vs ${cur.key}`);
  const intervalNs = cur.timestampNs - prev.timestampNs;
  if (intervalNs <= 0n)
    throw new RangeError(`clientUsage: cur is not later than prev (${intervalNs} ns)`);
  const engines = record<EngineUtilisation>();
  for (const [name, e] of Object.entries(cur.info.engines)) {
    const u = engineUtilisation(own(prev.info.engines, name), e, intervalNs);
    if (u !== undefined) engines[name] = u;
  }
  return usageOf(cur, intervalNs, engines);
}

function usageOf(
  cur: DrmClientSample,
  intervalNs: bigint,
  engines: Record<string, EngineUtilisation>,
): ClientUsage {
  const u: ClientUsage = {
    key: cur.key,
    pid: cur.pid,
    driver: cur.info.driver,
    intervalNs,
    engines,
    memory: cur.info.memory,
  };
  if (cur.comm !== undefined) u.comm = cur.comm;
  if (cur.info.clientId !== undefined) u.clientId = cur.info.clientId;
  return u;
}

function checkSample(name: string, s: unknown): void {
  const o = s as DrmClientSample | null;
  if (
    typeof s !== 'object' ||
    o === null ||
    typeof o.key !== 'string' ||
    typeof o.timestampNs !== 'bigint'
  ) {
    throw new TypeError(`clientUsage: ${name} must be a DrmClientSample`);
  }
  if (typeof o.info !== 'object' || o.info === null)
    throw new TypeError(`clientUsage: ${name}.info missing`);
}

interface Baseline {
  engine: DrmEngineStats;
  timestampNs: bigint;
}

/**
 * Turns successive scans into per-client usage, keeping per engine the larger previous
 * counter after a backwards step (the spec's rule) and forgetting clients that are gone.
 *
 * **Context**: synchronous; one tracker per stream of samples.
 * @example
 * const t = new DrmUsageTracker();
 * t.update(scanner.discover());            // first call: no engines yet (needs two samples)
 * const usage = t.update(scanner.refresh());
 */
export class DrmUsageTracker {
  // key -> engine name -> baseline (the larger value seen, with its read time)
  private baselines = new Map<string, Map<string, Baseline>>();

  /** Feeds one scan; returns usage for every client in it (engines need a previous sample). */
  update(samples: readonly DrmClientSample[]): ClientUsage[] {
    if (!Array.isArray(samples as unknown))
      throw new TypeError('DrmUsageTracker.update: samples must be an array');
    const next = new Map<string, Map<string, Baseline>>();
    const out: ClientUsage[] = [];
    for (const cur of samples) {
      checkSample('sample', cur);
      const prevB = this.baselines.get(cur.key);
      const curB = new Map<string, Baseline>();
      const engines = record<EngineUtilisation>();
      let interval = 0n;
      for (const [name, e] of Object.entries(cur.info.engines)) {
        const b = prevB?.get(name);
        const dt = b === undefined ? 0n : cur.timestampNs - b.timestampNs;
        const u = prevB === undefined || dt <= 0n ? undefined : engineUtilisation(b?.engine, e, dt);
        if (u !== undefined) engines[name] = u;
        if (dt > interval) interval = dt;
        const keep = u?.reset === true && b !== undefined;
        curB.set(name, keep ? b : { engine: e, timestampNs: cur.timestampNs });
      }
      next.set(cur.key, curB);
      out.push(usageOf(cur, interval, engines));
    }
    this.baselines = next;
    return out;
  }
}

/**
 * Sums client usage per owning process (each client counted once, under its first holder).
 *
 * **Context**: pure.
 * @throws TypeError when `usages` is not an array.
 */
export function usageByProcess(usages: readonly ClientUsage[]): ProcessUsage[] {
  if (!Array.isArray(usages as unknown))
    throw new TypeError('usageByProcess: usages must be an array');
  const byPid = new Map<number, ProcessUsage>();
  for (const u of usages) {
    let p = byPid.get(u.pid);
    if (p === undefined) {
      p = { pid: u.pid, clients: 0, engines: record(), memory: record() };
      if (u.comm !== undefined) p.comm = u.comm;
      byPid.set(u.pid, p);
    }
    p.clients++;
    for (const [name, e] of Object.entries(u.engines))
      p.engines[name] = (p.engines[name] ?? 0) + e.utilisation;
    addMemory(p.memory, u.memory);
  }
  return [...byPid.values()];
}

const FIELDS = ['total', 'shared', 'active', 'resident', 'purgeable'] as const;

function addMemory(
  into: Record<string, DrmMemoryStats>,
  from: Record<string, DrmMemoryStats>,
): void {
  for (const [region, m] of Object.entries(from)) {
    const r = slot(into, region);
    for (const f of FIELDS) {
      const v = m[f];
      if (v !== undefined) r[f] = (r[f] ?? 0) + v;
    }
  }
}
