import type { Structure } from './structure.js';
import { FlattenTree } from './structures/flatten.js';
import { HmmkitTree } from './structures/hmmkit.js';
import { MnemonistStaticTree } from './structures/mnemonist-static.js';
import { NaiveList } from './structures/naive-list.js';
import { NaiveScan } from './structures/naive-scan.js';
import { NodeIntervalTree } from './structures/node-interval-tree.js';
import { ProtontechTree } from './structures/protontech.js';

/** Ours first: its answers are the reference the others are checked against. */
const FACTORIES: (() => Structure)[] = [
  () => new HmmkitTree(),
  () => new FlattenTree(),
  () => new NodeIntervalTree(),
  () => new ProtontechTree(),
  () => new MnemonistStaticTree(),
  () => new NaiveList(),
  () => new NaiveScan(),
];

/**
 * Ours plus the peers named (by substring) in `only`; every peer when `only`
 * is empty. A name that matches no peer is a RangeError, not a silent run
 * with nothing to compare against.
 */
export function selectFactories(only: string): (() => Structure)[] {
  const wanted = only.split(',').filter((t) => t !== '');
  const names = FACTORIES.map((make) => make().name);
  for (const t of wanted) {
    if (!names.some((name, i) => i > 0 && name.includes(t)))
      throw new RangeError(`--only: no peer matches "${t}" (peers: ${names.slice(1).join(', ')})`);
  }
  return FACTORIES.filter(
    (_, i) => i === 0 || wanted.length === 0 || wanted.some((t) => names[i]!.includes(t)),
  );
}
