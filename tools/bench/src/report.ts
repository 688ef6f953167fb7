import { capped, type Rate } from './measure.js';
import type { Row } from './run-size.js';

const COLUMNS = ['insert', 'remove', 'query', 'mixed'] as const;
type Column = (typeof COLUMNS)[number];

export function formatRate(r: Rate | undefined): string {
  if (!r) return '-';
  const v = r.opsPerSec;
  const text =
    v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
  return capped(r) ? `${text} (capped ${r.done}/${r.planned})` : text;
}

function verdict(row: Row): string {
  if (row.mismatches > 0) return `INCORRECT (${row.mismatches} sample mismatches)`;
  if (row.mixedMismatch) return 'INCORRECT (mixed hits differ)';
  return 'ok';
}

export function isCorrect(row: Row): boolean {
  return row.mismatches === 0 && !row.mixedMismatch;
}

/** A markdown table of one size, then the ratios of ours against the best correct peer. */
export function printSize(n: number, rows: Row[], sample: number, heap: boolean): void {
  const header = [
    'structure',
    'insert/s',
    'remove/s',
    'query/s',
    'mixed op/s',
    'B/interval',
    `answers (${sample} sampled)`,
  ];
  const lines = rows.map((r) => [
    r.kind === 'static' ? `${r.name} (static: build)` : r.name,
    formatRate(r.insert),
    formatRate(r.remove),
    formatRate(r.query),
    formatRate(r.mixed),
    heap && r.bytesPerInterval !== undefined ? r.bytesPerInterval.toFixed(0) : 'n/a',
    verdict(r),
  ]);
  console.log(`\n### n = ${n.toExponential(0).replace('e+', 'e')}\n`);
  printTable(header, lines);
  console.log('');
  for (const line of ratioLines(rows)) console.log(line);
}

function printTable(header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
}

/** ours / best correct dynamic npm peer per column, and ours / the static tree for queries. */
function ratioLines(rows: Row[]): string[] {
  const ours = rows[0]!;
  const peers = rows.slice(1).filter((r) => r.kind === 'dynamic' && isCorrect(r));
  const out: string[] = [];
  for (const col of COLUMNS) {
    const best = bestPeer(peers, col);
    const mine = ours[col];
    if (!best || !mine) continue;
    const ratio = mine.opsPerSec / best[col]!.opsPerSec;
    out.push(`- ${col}: ours / best correct dynamic peer (${best.name}) = ${ratio.toFixed(2)}x`);
  }
  const fixed = rows.find((r) => r.kind === 'static' && isCorrect(r));
  if (fixed?.query && ours.query) {
    const ratio = ours.query.opsPerSec / fixed.query.opsPerSec;
    out.push(`- query: ours / ${fixed.name} = ${ratio.toFixed(2)}x`);
  }
  return out;
}

function bestPeer(peers: Row[], col: Column): Row | undefined {
  let best: Row | undefined;
  for (const p of peers) {
    const r = p[col];
    if (r && (!best || r.opsPerSec > best[col]!.opsPerSec)) best = p;
  }
  return best;
}
