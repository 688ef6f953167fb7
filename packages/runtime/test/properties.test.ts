import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Completion,
  Kref,
  LockdepMap,
  type RuntimeViolation,
  RwSemaphore,
  resetRuntime,
} from '../src/index.js';

beforeEach(() => resetRuntime());

/** Naive lock-order model: an adjacency matrix and a reachability search per new edge. */
class OrderModel {
  readonly edges: boolean[][];
  constructor(n: number) {
    this.edges = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  }
  reaches(from: number, to: number): boolean {
    const seen = new Set([from]);
    const todo = [from];
    while (todo.length > 0) {
      const x = todo.pop()!;
      if (x === to) return true;
      this.edges[x]!.forEach((e, y) => {
        if (e && !seen.has(y)) {
          seen.add(y);
          todo.push(y);
        }
      });
    }
    return false;
  }
  /** Returns false when the acquisition closes a cycle (what lockdep must report). */
  acquire(held: readonly number[], c: number): boolean {
    for (const h of held) {
      if (this.edges[h]![c]) continue;
      if (this.reaches(c, h)) return false;
      this.edges[h]![c] = true;
    }
    return true;
  }
}

const CLASSES = 5;
/** A nesting: distinct classes acquired in order, then released innermost first. */
const nesting = fc.uniqueArray(fc.integer({ min: 0, max: CLASSES - 1 }), {
  minLength: 1,
  maxLength: 4,
});

describe('lockdep agrees with a naive lock-order model', () => {
  it('reports a cycle exactly at the first acquisition that closes one', () => {
    let reports = 0;
    fc.assert(
      fc.property(fc.array(nesting, { minLength: 1, maxLength: 12 }), (nestings) => {
        resetRuntime();
        const maps = Array.from({ length: CLASSES }, (_, i) => new LockdepMap(`prop-L${i}`));
        const model = new OrderModel(CLASSES);
        for (const order of nestings) {
          const held: number[] = [];
          for (const c of order) {
            const expectReport = !model.acquire(held, c);
            let kind: string | undefined;
            try {
              maps[c]!.acquire();
            } catch (e) {
              kind = (e as RuntimeViolation).kind;
            }
            if (expectReport) {
              reports++;
              return kind === 'lock-order';
            }
            if (kind !== undefined) return false;
            held.push(c);
          }
          for (const c of held.reverse()) maps[c]!.release();
        }
        return true;
      }),
      { seed: 42, numRuns: 300 },
    );
    expect(reports).toBeGreaterThan(50);
  });
});

type CompletionOp = 'complete' | 'completeAll' | 'tryWait' | 'reinit';

describe('synchronous operations agree with naive models', () => {
  it('Completion counts like x->done', () => {
    const ops = fc.array(
      fc.constantFrom<CompletionOp>('complete', 'completeAll', 'tryWait', 'reinit'),
      {
        maxLength: 40,
      },
    );
    fc.assert(
      fc.property(ops, (seq) => {
        const c = new Completion('prop');
        let done = 0;
        const ALL = 0xffffffff;
        for (const op of seq) {
          if (op === 'complete') {
            c.complete();
            if (done !== ALL) done++;
          } else if (op === 'completeAll') {
            c.completeAll();
            done = ALL;
          } else if (op === 'reinit') {
            c.reinit();
            done = 0;
          } else {
            const got = c.tryWaitForCompletion();
            if (got !== done > 0) return false;
            if (done > 0 && done !== ALL) done--;
          }
          if (c.done !== done > 0) return false;
        }
        return true;
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('RwSemaphore trylocks and releases by one task follow the reader/writer rules', () => {
    const ops = fc.array(fc.constantFrom('r', 'w', 'ur', 'uw', 'dg'), { maxLength: 40 });
    fc.assert(
      fc.property(ops, (seq) => {
        resetRuntime();
        // One task: a second read hold would be recursive locking, so 'r' with
        // readers > 0 is skipped.
        const sem = new RwSemaphore('prop-rw');
        let readers = 0;
        let writer = false;
        for (const op of seq) {
          if (op === 'r' && readers === 0 && !writer) {
            if (!sem.downReadTrylock()) return false;
            readers++;
          } else if (op === 'r' && writer) {
            if (sem.downReadTrylock()) return false;
          } else if (op === 'w') {
            const expect = readers === 0 && !writer;
            if (sem.downWriteTrylock() !== expect) return false;
            if (expect) writer = true;
          } else if (op === 'ur' && readers > 0) {
            sem.upRead();
            readers--;
          } else if (op === 'uw' && writer) {
            sem.upWrite();
            writer = false;
          } else if (op === 'dg' && writer) {
            sem.downgradeWrite();
            writer = false;
            readers++;
          }
          if (sem.readers !== readers || sem.writeLocked !== writer) return false;
        }
        if (writer) sem.upWrite();
        for (; readers > 0; readers--) sem.upRead();
        return true;
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('Kref releases exactly once, at the put that reaches zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        (initial, ops) => {
          let released = 0;
          const k = new Kref('prop', () => released++, initial);
          let count = initial;
          for (const get of ops) {
            if (count === 0) break;
            if (get) {
              k.get();
              count++;
            } else if (k.put() !== (--count === 0)) return false;
            if (k.read() !== count) return false;
          }
          return released === (count === 0 ? 1 : 0);
        },
      ),
      { seed: 3, numRuns: 300 },
    );
  });
});
