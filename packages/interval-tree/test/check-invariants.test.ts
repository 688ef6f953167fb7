import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../src/check-invariants.js';
import { IntervalTree, storeOf } from '../src/interval-tree.js';
import { NIL } from '../src/node-layout.js';
import { BLACK, colorOf, setParent, setRed } from '../src/rb-links.js';

/** A valid tree of 20 nodes whose store the test then corrupts. */
function tree20(): IntervalTree<number> {
  const tree = new IntervalTree<number>();
  for (let i = 0; i < 20; i++) tree.insert(i * 3, i * 3 + (i % 4), i);
  checkInvariants(tree);
  return tree;
}

describe('checkInvariants (the property tests rely on it failing)', () => {
  it('detects a red root', () => {
    const tree = tree20();
    const s = storeOf(tree);
    setRed(s.pc, s.root);
    expect(() => checkInvariants(tree)).toThrow(/root is red/);
  });

  it('detects a wrong subtree max', () => {
    const tree = tree20();
    const s = storeOf(tree);
    s.subtreeLast[s.root * 4] = 1;
    expect(() => checkInvariants(tree)).toThrow(/subtreeLast/);
  });

  it('detects a broken parent link', () => {
    const tree = tree20();
    const s = storeOf(tree);
    setParent(s.pc, s.leftmost, s.leftmost);
    expect(() => checkInvariants(tree)).toThrow(/parent link/);
  });

  it('detects unequal black heights', () => {
    const tree = tree20();
    const s = storeOf(tree);
    const slots = Array.from({ length: 20 }, (_, k) => k + 1);
    const black = slots.find((n) => n !== s.root && colorOf(s.pc, n) === BLACK)!;
    setRed(s.pc, black);
    expect(() => checkInvariants(tree)).toThrow(/black heights differ|red slot/);
  });

  it('detects a write to slot 0, which stands for NULL', () => {
    const tree = tree20();
    storeOf(tree).right[NIL * 8] = 3;
    expect(() => checkInvariants(tree)).toThrow(/slot 0/);
  });

  it('detects a stale leftmost cache', () => {
    const tree = tree20();
    const s = storeOf(tree);
    s.leftmost = s.root;
    expect(() => checkInvariants(tree)).toThrow(/leftmost/);
  });
});
