import type { Structure } from './structure.js';
import { FlattenTree } from './structures/flatten.js';
import { HmmkitTree } from './structures/hmmkit.js';
import { MnemonistStaticTree } from './structures/mnemonist-static.js';
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
  () => new NaiveScan(),
];

/** Ours plus the peers named (by substring) in `only`; every peer when `only` is empty. */
export function selectFactories(only: string): (() => Structure)[] {
  const wanted = only.split(',').filter((t) => t !== '');
  return FACTORIES.filter(
    (make, i) => i === 0 || wanted.length === 0 || wanted.some((t) => make().name.includes(t)),
  );
}
