/*
 * The pure half of hmmkit-gputop: argument parsing, sorting, the text table and the
 * JSON document. The loop that samples lives in cli/gputop.ts.
 */
import { describe } from './parse.js';
import type { DrmClientSample, DrmMemoryStats } from './types.js';
import type { ClientUsage } from './utilisation.js';

/** Sort orders of the client table. */
export const GPUTOP_SORT_KEYS = ['busy', 'memory', 'pid', 'name', 'client'] as const;
export type GputopSortKey = (typeof GPUTOP_SORT_KEYS)[number];

/** Parsed command line of hmmkit-gputop. */
export interface GputopArgs {
  once: boolean;
  json: boolean;
  procRoot: string;
  intervalMs: number;
  discoverEvery: number;
  sort: GputopSortKey;
  limit: number;
  help: boolean;
}

export const GPUTOP_USAGE = `usage: hmmkit-gputop [--once] [--json] [--proc-root DIR] [--interval MS]
                     [--discover-every N] [--sort busy|memory|pid|name|client] [--limit N]
Per-client GPU engine utilisation and memory from DRM fdinfo (/proc/<pid>/fdinfo).
  --once             take two samples --interval apart, print, exit
  --json             print JSON instead of a table
  --proc-root DIR    procfs root to scan (default /proc)
  --interval MS      time between samples (default 1000)
  --discover-every N full process walk every N samples, refresh known clients between (default 5)
  --sort KEY         busy (default), memory, pid, name, client
  --limit N          show at most N clients (default all)`;

function intArg(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) {
    throw new RangeError(`${flag} needs an integer >= ${min}, got ${describe(v)}`);
  }
  return n;
}

/**
 * Parses hmmkit-gputop's argv (without node and script).
 * @throws RangeError naming the bad flag and value.
 */
export function parseGputopArgs(argv: readonly string[]): GputopArgs {
  const a: GputopArgs = {
    once: false,
    json: false,
    procRoot: '/proc',
    intervalMs: 1000,
    discoverEvery: 5,
    sort: 'busy',
    limit: Number.POSITIVE_INFINITY,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--once') a.once = true;
    else if (flag === '--json') a.json = true;
    else if (flag === '--help' || flag === '-h') a.help = true;
    else if (flag === '--proc-root') a.procRoot = stringArg(flag, argv[++i]);
    else if (flag === '--interval') a.intervalMs = intArg(flag, argv[++i], 1);
    else if (flag === '--discover-every') a.discoverEvery = intArg(flag, argv[++i], 1);
    else if (flag === '--limit') a.limit = intArg(flag, argv[++i], 1);
    else if (flag === '--sort') a.sort = sortArg(argv[++i]);
    else throw new RangeError(`unknown argument ${describe(flag)}`);
  }
  return a;
}

function stringArg(flag: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new RangeError(`${flag} needs a value`);
  return v;
}

function sortArg(v: string | undefined): GputopSortKey {
  if (!GPUTOP_SORT_KEYS.includes(v as GputopSortKey)) {
    throw new RangeError(
      `--sort must be one of ${GPUTOP_SORT_KEYS.join(', ')}, got ${describe(v)}`,
    );
  }
  return v as GputopSortKey;
}

/** Highest engine utilisation of a client (0..1). */
export function peakBusy(u: ClientUsage): number {
  let m = 0;
  for (const e of Object.values(u.engines)) if (e.utilisation > m) m = e.utilisation;
  return m;
}

/** Resident bytes over all regions (total when a driver prints no resident). */
export function residentBytes(memory: Record<string, DrmMemoryStats>): number {
  let n = 0;
  for (const m of Object.values(memory)) n += m.resident ?? m.total ?? 0;
  return n;
}

const COMPARE: Record<GputopSortKey, (a: ClientUsage, b: ClientUsage) => number> = {
  busy: (a, b) => peakBusy(b) - peakBusy(a),
  memory: (a, b) => residentBytes(b.memory) - residentBytes(a.memory),
  pid: (a, b) => a.pid - b.pid,
  name: (a, b) => (a.comm ?? '').localeCompare(b.comm ?? ''),
  client: (a, b) => a.key.localeCompare(b.key),
};

/** A sorted copy; ties broken by pid then key so the order is stable between refreshes. */
export function sortUsages(usages: readonly ClientUsage[], key: GputopSortKey): ClientUsage[] {
  if (!Array.isArray(usages as unknown)) throw new TypeError('sortUsages: usages must be an array');
  if (!GPUTOP_SORT_KEYS.includes(key))
    throw new RangeError(`sortUsages: unknown sort key ${describe(key)}`);
  const cmp = COMPARE[key];
  return [...usages].sort((a, b) => cmp(a, b) || a.pid - b.pid || a.key.localeCompare(b.key));
}

function checkArrays(fn: string, usages: unknown, samples: unknown): void {
  if (!Array.isArray(usages) || !Array.isArray(samples)) {
    throw new TypeError(`${fn}: usages and samples must be arrays`);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)}M`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The text table: one line per client, engines as name:percent. */
export function renderTable(
  usages: readonly ClientUsage[],
  samples: readonly DrmClientSample[],
): string {
  checkArrays('renderTable', usages, samples);
  const holders = new Map(samples.map((s) => [s.key, s.holders.length]));
  const rows = [['PID', 'COMM', 'DRIVER', 'CLIENT', 'HOLD', 'BUSY', 'RESIDENT', 'ENGINES']];
  for (const u of usages) {
    const engines = Object.entries(u.engines).map(
      ([n, e]) => `${n}:${pct(e.utilisation)}${e.reset ? '*' : ''}`,
    );
    rows.push([
      `${u.pid}`,
      (u.comm ?? '?').slice(0, 16),
      u.driver.slice(0, 12),
      u.clientId ?? '-',
      `${holders.get(u.key) ?? 1}`,
      Object.keys(u.engines).length === 0 ? '-' : pct(peakBusy(u)),
      mib(residentBytes(u.memory)),
      engines.join(' ') || '-',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => cell.padEnd(c === r.length - 1 ? 0 : widths[c]!)).join('  '))
    .join('\n');
}

/** JSON-safe document (bigints as decimal strings). */
export function toJsonDocument(
  usages: readonly ClientUsage[],
  samples: readonly DrmClientSample[],
): unknown {
  checkArrays('toJsonDocument', usages, samples);
  const byKey = new Map(samples.map((s) => [s.key, s]));
  return {
    clients: usages.map((u) => {
      const s = byKey.get(u.key);
      return {
        key: u.key,
        pid: u.pid,
        comm: u.comm ?? null,
        driver: u.driver,
        clientId: u.clientId ?? null,
        device: s?.device ?? null,
        pdev: s?.info.pdev ?? null,
        holders: s?.holders ?? [],
        intervalNs: u.intervalNs.toString(),
        engines: u.engines,
        memory: u.memory,
      };
    }),
  };
}
