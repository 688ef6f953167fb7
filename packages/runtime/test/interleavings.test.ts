import { describe, expect, it } from 'vitest';
import {
  Completion,
  type ExploreOptions,
  explore,
  exploreOrThrow,
  Kref,
  Mutex,
  type RuntimeViolation,
  RwSemaphore,
  SeqCount,
  Srcu,
  schedulePoint,
  spawn,
} from '../src/index.js';

const exhaustive: ExploreOptions = { policy: 'dfs', preemptionBound: 2 };

async function joinAll(ts: Array<{ join(): Promise<unknown> }>): Promise<void> {
  for (const t of ts) await t.join();
}

function mutualExclusion(withLock: boolean) {
  return async () => {
    const m = new Mutex('excl');
    let inside = 0;
    const body = async () => {
      if (withLock) await m.lock();
      inside++;
      await schedulePoint();
      if (inside !== 1) throw new Error(`${inside} tasks in the critical section`);
      inside--;
      if (withLock) m.unlock();
    };
    await joinAll([spawn('a', body), spawn('b', body), spawn('c', body)]);
  };
}

describe('mutex under every interleaving', () => {
  it('keeps three tasks out of each other’s critical section', async () => {
    const res = await exploreOrThrow(mutualExclusion(true), exhaustive);
    expect(res.exhausted).toBe(true);
  });

  it('without the mutex the overlap is found', async () => {
    const res = await explore(mutualExclusion(false), exhaustive);
    expect((res.failure?.error as Error | undefined)?.message).toMatch(
      /[23] tasks in the critical section/,
    );
  });
});

describe('rw-semaphore under every interleaving', () => {
  it('never lets a writer overlap a reader or another writer, downgrade included', async () => {
    const res = await exploreOrThrow(
      async () => {
        const sem = new RwSemaphore('rw');
        const s = { readers: 0, writers: 0 };
        const check = () => {
          if (s.writers > 1 || (s.writers === 1 && s.readers > 0)) {
            throw new Error(`readers=${s.readers} writers=${s.writers}`);
          }
        };
        const reader = async () => {
          await sem.downRead();
          s.readers++;
          check();
          await schedulePoint();
          s.readers--;
          sem.upRead();
        };
        const writer = async () => {
          await sem.downWrite();
          s.writers++;
          check();
          await schedulePoint();
          s.writers--;
          sem.downgradeWrite();
          s.readers++;
          check();
          await schedulePoint();
          s.readers--;
          sem.upRead();
        };
        await joinAll([
          spawn('r1', reader),
          spawn('w1', writer),
          spawn('r2', reader),
          spawn('w2', writer),
        ]);
      },
      { policy: 'dfs', preemptionBound: 1 },
    );
    expect(res.exhausted).toBe(true);
  });
});

describe('completion under every interleaving', () => {
  it('a waiter always sees what was published before complete()', async () => {
    const res = await exploreOrThrow(async () => {
      const done = new Completion('done');
      const box: { value?: number } = {};
      const consumer = spawn('consumer', async () => {
        await done.waitForCompletion();
        if (box.value !== 42) throw new Error('woke before the value was published');
      });
      const producer = spawn('producer', async () => {
        await schedulePoint();
        box.value = 42;
        done.complete();
      });
      await joinAll([consumer, producer]);
    }, exhaustive);
    expect(res.exhausted).toBe(true);
  });
});

function srcuReclaim(synchronize: boolean) {
  return async () => {
    const srcu = new Srcu('list');
    const make = (name: string) => new Kref(name, () => {});
    const cur = { obj: make('v1') };
    const reader = spawn('reader', async () => {
      const idx = srcu.readLock();
      const obj = cur.obj;
      await schedulePoint();
      obj.assertLive();
      srcu.readUnlock(idx);
    });
    const updater = spawn('updater', async () => {
      const old = cur.obj;
      cur.obj = make('v2');
      if (synchronize) await srcu.synchronize();
      else await schedulePoint();
      old.put();
    });
    await joinAll([reader, updater]);
  };
}

describe('SRCU under every interleaving', () => {
  it('synchronize before freeing keeps every reader safe', async () => {
    const res = await exploreOrThrow(srcuReclaim(true), exhaustive);
    expect(res.exhausted).toBe(true);
  });

  it('freeing without synchronize is a use-after-free the explorer finds', async () => {
    const res = await explore(srcuReclaim(false), exhaustive);
    expect((res.failure?.error as RuntimeViolation | undefined)?.kind).toBe('use-after-free');
  });
});

function seqcountReader(retry: boolean) {
  return async () => {
    const lock = new Mutex('writer lock');
    const sc = new SeqCount('pair');
    const pair = { a: 0, b: 0 };
    const writer = spawn('writer', async () => {
      for (let i = 1; i <= 2; i++) {
        await lock.lock();
        sc.writeBegin();
        pair.a = i;
        pair.b = i;
        sc.writeEnd();
        lock.unlock();
      }
    });
    const reader = spawn('reader', async () => {
      let a: number;
      let b: number;
      let seq: number;
      do {
        seq = await sc.readBegin();
        a = pair.a;
        await schedulePoint();
        b = pair.b;
      } while (retry && sc.readRetry(seq));
      if (a !== b) throw new Error(`torn read a=${a} b=${b}`);
    });
    await joinAll([writer, reader]);
  };
}

describe('seqcount under every interleaving', () => {
  it('a reader that retries never accepts a torn pair', async () => {
    const res = await exploreOrThrow(seqcountReader(true), exhaustive);
    expect(res.exhausted).toBe(true);
  });

  it('a reader that ignores readRetry can see a torn pair', async () => {
    const res = await explore(seqcountReader(false), exhaustive);
    expect((res.failure?.error as Error | undefined)?.message).toMatch(/torn read/);
  });
});
