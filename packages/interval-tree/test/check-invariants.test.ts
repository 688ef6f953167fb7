import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../src/check-invariants.js';
import { IntervalTree, storeOf } from '../src/interval-tree.js';
import { BLACK, SUBTREE_LAST } from '../src/node-layout.js';
import { colorOf, setParent, setRed } from '../src/rb-links.js';

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
    setRed(s, s.root);
    expect(() => checkInvariants(tree)).toThrow(/root is red/);
  });

  it('detects a wrong subtree max', () => {
    const tree = tree20();
    const s = storeOf(tree);
    s.f[s.root * 4 + SUBTREE_LAST] = 1;
    expect(() => checkInvariants(tree)).toThrow(/subtreeLast/);
  });

  it('detects a broken parent link', () => {
    const tree = tree20();
    const s = storeOf(tree);
    setParent(s, s.leftmost, s.leftmost);
    expect(() => checkInvariants(tree)).toThrow(/parent link/);
  });

  it('detects unequal black heights', () => {
    const tree = tree20();
    const s = storeOf(tree);
    const black = [...Array(20).keys()].find((n) => n !== s.root && colorOf(s, n) === BLACK)!;
    setRed(s, black);
    expect(() => checkInvariants(tree)).toThrow(/black heights differ|red slot/);
  });

  it('detects a stale leftmost cache', () => {
    const tree = tree20();
    const s = storeOf(tree);
    s.leftmost = s.root;
    expect(() => checkInvariants(tree)).toThrow(/leftmost/);
  });
});
