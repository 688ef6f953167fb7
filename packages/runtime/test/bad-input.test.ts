import { beforeEach, describe, expect, it } from 'vitest';
import {
  Completion,
  checkDeterminism,
  fsReclaimAcquire,
  fsReclaimRelease,
  isKernelError,
  Kref,
  LockdepMap,
  Mutex,
  mightAlloc,
  mightSleep,
  Prng,
  RwSemaphore,
  resetRuntime,
  SeqCount,
  SpinLock,
  Srcu,
  setTraceSink,
  spawn,
  trace,
  WaitQueue,
} from '../src/index.js';

beforeEach(() => resetRuntime());

/**
 * Convention: every public entry point of the runtime rejects bad arguments with
 * KernelError EINVAL whose message names the function, the argument and the value.
 */
async function einval(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isKernelError(e, 'EINVAL')) return e.message;
    throw e;
  }
  throw new Error('no error thrown');
}

const cases: Array<[string, () => unknown, RegExp]> = [
  ['SpinLock name', () => new SpinLock(''), /SpinLock: name .* got ""/],
  ['Mutex name', () => new Mutex(7 as never), /Mutex: name .* got 7/],
  [
    'RwSemaphore name',
    () => new RwSemaphore(undefined as never),
    /RwSemaphore: name .* got undefined/,
  ],
  ['WaitQueue name', () => new WaitQueue(''), /WaitQueue: name/],
  ['Completion name', () => new Completion(''), /Completion: name/],
  ['SeqCount name', () => new SeqCount(''), /SeqCount: name/],
  ['Srcu name', () => new Srcu(''), /Srcu: name/],
  ['Kref name', () => new Kref('', () => {}), /Kref: name/],
  ['Kref initial', () => new Kref('k', () => {}, -1), /Kref: initial .* got -1/],
  ['LockdepMap name', () => new LockdepMap(''), /LockdepMap: name/],
  [
    'SpinLock.lockNested subclass',
    () => new SpinLock('s').lockNested(8),
    /lockNested: subclass .* got 8/,
  ],
  [
    'Mutex.lockNested subclass',
    () => new Mutex('m').lockNested(-1),
    /Mutex.lockNested: subclass .* got -1/,
  ],
  [
    'RwSemaphore.downReadNested',
    () => new RwSemaphore('r').downReadNested(1.5),
    /downReadNested: subclass/,
  ],
  [
    'RwSemaphore.downWriteNested',
    () => new RwSemaphore('r').downWriteNested(99),
    /downWriteNested: subclass/,
  ],
  [
    'WaitQueue.waitEvent cond',
    () => new WaitQueue('w').waitEvent(null as never),
    /waitEvent: cond/,
  ],
  ['SeqCount.readRetry seq', () => new SeqCount('s').readRetry(-2), /readRetry: seq .* got -2/],
  [
    'Srcu.readUnlock idx',
    () => new Srcu('s').readUnlock('0' as never),
    /readUnlock: idx .* got "0"/,
  ],
  ['Srcu.callSrcu fn', () => new Srcu('s').callSrcu(undefined as never), /callSrcu: fn/],
  ['spawn name', () => spawn('', () => {}), /spawn: name/],
  ['spawn fn', () => spawn('t', {} as never), /spawn: fn/],
  ['mightSleep what', () => mightSleep(''), /mightSleep: what must be a non-empty string/],
  ['mightAlloc gfp', () => mightAlloc(Number.NaN), /mightAlloc: gfp .* got NaN/],
  ['fsReclaimAcquire gfp', () => fsReclaimAcquire(-4), /fsReclaimAcquire: gfp/],
  ['fsReclaimRelease gfp', () => fsReclaimRelease(2 ** 40), /fsReclaimRelease: gfp/],
  ['Prng seed', () => new Prng(-1), /Prng: seed/],
  ['Prng.nextInt bound', () => new Prng(1).nextInt(2 ** 33), /nextInt: bound/],
  ['setTraceSink sink', () => setTraceSink('x' as never), /setTraceSink: sink/],
  [
    'resetRuntime opts',
    () => resetRuntime({ lockdep: 'yes' as never }),
    /resetRuntime: opts.lockdep/,
  ],
  [
    'checkDeterminism schedule',
    () => checkDeterminism('nope', () => {}),
    /schedule must have the form/,
  ],
  [
    'checkDeterminism scenario',
    () => checkDeterminism('dfs:0:-', 1 as never),
    /checkDeterminism: scenario/,
  ],
];

describe('bad input to every public entry point is KernelError EINVAL', () => {
  for (const [what, fn, msg] of cases) {
    it(`rejects a bad ${what}`, async () => {
      expect(await einval(fn)).toMatch(msg);
    });
  }

  it('trace validates only when a sink is installed', async () => {
    setTraceSink(() => {});
    try {
      expect(await einval(() => trace('kind', ''))).toMatch(/trace: name/);
      expect(await einval(() => trace('', 'name'))).toMatch(/trace: kind/);
    } finally {
      setTraceSink(undefined);
    }
  });
});
