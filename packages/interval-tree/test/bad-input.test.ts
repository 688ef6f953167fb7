import { type IntervalNode, IntervalTree } from '@hmmkit/interval-tree';
import { describe, expect, it } from 'vitest';

const BAD_BOUNDS: [string, unknown][] = [
  ['negative', -1],
  ['fractional', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['above MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER + 1],
  ['a string', '5'],
  ['a bigint', 5n],
  ['undefined', undefined],
];

type Bounded = (tree: IntervalTree<number>, start: number, last: number) => unknown;

/** Every public method taking [start, last], called with possibly bad bounds. */
function boundedMethods(): [string, Bounded][] {
  return [
    ['insert', (t, s, l) => t.insert(s, l, 0)],
    ['iterFirst', (t, s, l) => t.iterFirst(s, l)],
    ['iterNext', (t, s, l) => t.iterNext(t.insert(0, 1, 0), s, l)],
    ['overlapping', (t, s, l) => t.overlapping(s, l)],
  ];
}

describe('bad input', () => {
  for (const [method, call] of boundedMethods()) {
    for (const [what, bad] of BAD_BOUNDS) {
      it(`${method} rejects a ${what} start with a RangeError naming start and the value`, () => {
        const tree = new IntervalTree<number>();
        expect(() => call(tree, bad as number, 10)).toThrow(RangeError);
        expect(() => call(tree, bad as number, 10)).toThrow(/^start must be an integer/);
      });

      it(`${method} rejects a ${what} last with a RangeError naming last`, () => {
        const tree = new IntervalTree<number>();
        expect(() => call(tree, 0, bad as number)).toThrow(/^last must be an integer.*got /);
      });
    }

    it(`${method} rejects start > last, naming both values`, () => {
      const tree = new IntervalTree<number>();
      expect(() => call(tree, 9, 8)).toThrow(
        new RangeError('start must be <= last, got start 9 > last 8'),
      );
    });
  }

  it('names the offending value in the message', () => {
    const tree = new IntervalTree<number>();
    expect(() => tree.insert(-3, 4, 0)).toThrow('got -3');
    expect(() => tree.insert(0, Number.NaN, 0)).toThrow('got NaN');
    expect(() => tree.insert(0, 2 ** 53, 0)).toThrow('got 9007199254740992');
    expect(() => tree.insert('7' as unknown as number, 9, 0)).toThrow('got "7"');
  });

  it('leaves the tree unchanged after a rejected insert', () => {
    const tree = new IntervalTree<number>();
    expect(() => tree.insert(5, 4, 0)).toThrow(RangeError);
    expect(tree.size).toBe(0);
  });

  it('remove rejects a node removed twice', () => {
    const tree = new IntervalTree<number>();
    const node = tree.insert(1, 2, 0);
    tree.remove(node);
    expect(() => tree.remove(node)).toThrow(new RangeError('node is not in this tree, got [1, 2]'));
  });

  it('remove rejects a node of another tree, even one in the same slot', () => {
    const a = new IntervalTree<number>();
    const b = new IntervalTree<number>();
    a.insert(1, 2, 0);
    const foreign = b.insert(1, 2, 0);
    expect(() => a.remove(foreign)).toThrow(RangeError);
    expect(a.size).toBe(1);
    expect(b.size).toBe(1);
  });

  it('remove rejects something that is not a node', () => {
    const tree = new IntervalTree<number>();
    tree.insert(1, 2, 0);
    const lookalike = { start: 1, last: 2, value: 0 } as IntervalNode<number>;
    expect(() => tree.remove(lookalike)).toThrow(/not in this tree, got object/);
    expect(() => tree.remove(null as unknown as IntervalNode<number>)).toThrow(/got null/);
    expect(() => tree.remove(undefined as unknown as IntervalNode<number>)).toThrow(
      /got undefined/,
    );
  });

  it('iterNext rejects a node that is not in the tree', () => {
    const tree = new IntervalTree<number>();
    const node = tree.insert(1, 2, 0);
    tree.insert(3, 4, 1);
    tree.remove(node);
    expect(() => tree.iterNext(node, 0, 10)).toThrow(/^node is not in this tree/);
    const other = new IntervalTree<number>().insert(3, 4, 1);
    expect(() => tree.iterNext(other, 0, 10)).toThrow(RangeError);
  });

  it('iterNext rejects the node last returned by iterFirst once it was removed', () => {
    const tree = new IntervalTree<number>();
    tree.insert(1, 2, 0);
    tree.insert(1, 3, 1);
    const first = tree.iterFirst(0, 10)!;
    tree.remove(first);
    expect(() => tree.iterNext(first, 0, 10)).toThrow(RangeError);
  });
});
