import {
  type MmuIntervalNotifier,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
} from '@hmmkit/mmu-notifier';
import { schedulePoint, spawn, type Task } from '@hmmkit/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE, rangeOf } from './helpers.js';

// A naive model of the interval side (a flat list, the rules of mm/mmu_notifier.c written out
// directly), run against the real subscriptions on seeded random operation sequences.

type State = 'tree' | 'deferred-insert' | 'deferred-remove' | 'gone';
interface ModelSub {
  start: number;
  last: number;
  state: State;
  seq: number;
  order: number; // tree insertion order: equal starts are visited in it
}

class Model {
  seq = 2;
  active = 0;
  subs: ModelSub[] = [];
  deferred: ModelSub[] = []; // head first, as the hlist
  hasItree = false; // no interval pass before the first insert...
  startsBefore = 0; // ...but the starts in flight then become active when it is turned on
  #order = 0;

  #toTree(m: ModelSub): void {
    m.state = 'tree';
    m.order = this.#order++;
  }
  insert(start: number, last: number): ModelSub {
    const m: ModelSub = { start, last, state: 'tree', seq: 0, order: 0 };
    if (!this.hasItree) {
      this.hasItree = true;
      this.active = this.startsBefore;
    }
    this.subs.push(m);
    if (this.active === 0) {
      m.seq = this.seq - 1;
      this.#toTree(m);
    } else if (this.seq % 2 === 1) {
      m.state = 'deferred-insert';
      this.deferred.unshift(m);
      m.seq = this.seq;
    } else {
      this.seq++;
      this.#toTree(m);
      m.seq = this.seq;
    }
    return m;
  }
  /** Returns true when the remove has to wait for the end. */
  remove(m: ModelSub): boolean {
    if (this.seq % 2 === 0) {
      m.state = 'gone';
      return false;
    }
    if (m.state === 'deferred-insert') {
      this.deferred.splice(this.deferred.indexOf(m), 1);
      m.state = 'gone';
      return false;
    }
    m.state = 'deferred-remove';
    this.deferred.unshift(m);
    return true;
  }
  start(s: number, e: number): ModelSub[] {
    if (!this.hasItree) {
      this.startsBefore++;
      return [];
    }
    this.active++;
    const hits = this.subs
      .filter(
        (m) =>
          (m.state === 'tree' || m.state === 'deferred-remove') && m.start <= e - 1 && s <= m.last,
      )
      .sort((a, b) => a.start - b.start || a.order - b.order);
    if (hits.length > 0 && this.seq % 2 === 0) this.seq++;
    for (const m of hits) m.seq = this.seq;
    return hits;
  }
  end(): void {
    if (!this.hasItree) {
      this.startsBefore--;
      return;
    }
    this.active--;
    if (this.active !== 0 || this.seq % 2 === 0) return;
    this.seq++;
    for (const m of this.deferred) {
      if (m.state === 'deferred-insert') this.#toTree(m);
      else m.state = 'gone';
    }
    this.deferred = [];
  }
}

type Op =
  | { kind: 'insert'; page: number; pages: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'start'; page: number; pages: number }
  | { kind: 'end'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    page: fc.nat(15),
    pages: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('start' as const),
    page: fc.nat(15),
    pages: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant('end' as const), pick: fc.nat() }),
);

async function run(ops: Op[]): Promise<void> {
  const subs = new MmuNotifierSubscriptions();
  const model = new Model();
  const real: MmuIntervalNotifier[] = [];
  const twin = new Map<MmuIntervalNotifier, ModelSub>();
  const open: MmuNotifierRange[] = [];
  const waiting: Task[] = [];
  let called: ModelSub[] = [];
  const ops_ = {
    invalidate(sub: MmuIntervalNotifier, _r: MmuNotifierRange, cur: number) {
      called.push(twin.get(sub)!);
      sub.setSeq(cur);
      return true;
    },
  };
  const live = () => real.filter((r) => ['tree', 'deferred-insert'].includes(twin.get(r)!.state));
  for (const op of ops) {
    if (op.kind === 'insert') {
      const sub = await subs.insertInterval(op.page * PAGE, op.pages * PAGE, ops_);
      real.push(sub);
      twin.set(sub, model.insert(sub.start, sub.last));
    } else if (op.kind === 'remove') {
      const candidates = live();
      if (candidates.length === 0) continue;
      const sub = candidates[op.pick % candidates.length]!;
      const waits = model.remove(twin.get(sub)!);
      const t = spawn('remove', () => sub.remove());
      await schedulePoint(); // let it run until it returns or sleeps
      if (!waits) expect(t.done).toBe(true);
      else {
        expect(t.done).toBe(false);
        waiting.push(t);
      }
    } else if (op.kind === 'start') {
      const r = rangeOf(subs, op.page * PAGE, (op.page + op.pages) * PAGE);
      called = [];
      await subs.invalidateRangeStart(r);
      open.push(r);
      expect(called).toEqual(model.start(r.start, r.end));
    } else {
      if (open.length === 0) continue;
      const [r] = open.splice(op.pick % open.length, 1);
      await subs.invalidateRangeEnd(r!);
      model.end();
    }
    expect([subs.invalidateSeq, subs.activeInvalidateRanges]).toEqual([model.seq, model.active]);
    for (const sub of real) expect(sub.invalidateSeq).toBe(twin.get(sub)!.seq);
  }
  while (open.length > 0) {
    await subs.invalidateRangeEnd(open.pop()!);
    model.end();
  }
  for (const t of waiting) await t.join();
  expect(subs.invalidateSeq % 2).toBe(0);
}

describe('the interval side against a naive model', () => {
  it('agrees on calls, sequences and deferred inserts/removes over random operation sequences', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), run), {
      seed: 0x5eed,
      numRuns: 300,
    });
  });
});
