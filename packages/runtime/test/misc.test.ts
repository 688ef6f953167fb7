import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ERRNO,
  explore,
  isKernelError,
  KernelError,
  Mutex,
  Prng,
  RuntimeViolation,
  resetRuntime,
  schedulePoint,
  setTraceSink,
  spawn,
  type TraceEvent,
  trace,
} from '../src/index.js';

beforeEach(() => resetRuntime());

describe('KernelError', () => {
  it('carries the errno name and the Linux number', () => {
    const e = new KernelError('EAGAIN', 'try again');
    expect(e.code).toBe('EAGAIN');
    expect(e.errno).toBe(11);
    expect(e.message).toBe('EAGAIN: try again');
    expect(isKernelError(e)).toBe(true);
    expect(isKernelError(e, 'EAGAIN')).toBe(true);
    expect(isKernelError(e, 'EINVAL')).toBe(false);
    expect(isKernelError(new Error('x'))).toBe(false);
  });

  it('ERRNO holds the asm-generic numbers', () => {
    expect(ERRNO).toMatchObject({
      EPERM: 1,
      EBADF: 9,
      EBUSY: 16,
      EINVAL: 22,
      EDEADLK: 35,
      EOPNOTSUPP: 95,
      EHWPOISON: 133,
    });
    expect(Object.isFrozen(ERRNO)).toBe(true);
  });
});

describe('Prng', () => {
  it('the same seed gives the same sequence, different seeds differ', () => {
    const a = new Prng(1);
    const b = new Prng(1);
    const c = new Prng(2);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('nextInt stays in range and nextFloat in [0, 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 1000 }),
        (seed, bound) => {
          const r = new Prng(seed);
          for (let i = 0; i < 20; i++) {
            const n = r.nextInt(bound);
            const f = r.nextFloat();
            if (n < 0 || n >= bound || !Number.isInteger(n) || f < 0 || f >= 1) return false;
          }
          return true;
        },
      ),
      { seed: 1, numRuns: 200 },
    );
  });

  it('nextInt is roughly uniform', () => {
    const r = new Prng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[r.nextInt(4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('rejects bad seeds and bounds with EINVAL', () => {
    expect(() => new Prng(-1)).toThrow(/EINVAL: Prng: seed/);
    expect(() => new Prng(2 ** 32)).toThrow(/EINVAL/);
    expect(() => new Prng(0).nextInt(0)).toThrow(/EINVAL: Prng.nextInt: bound/);
  });
});

describe('tracing', () => {
  it('records switches, waits and user events on a virtual clock', async () => {
    const events: TraceEvent[] = [];
    setTraceSink((e) => events.push(e));
    try {
      const m = new Mutex('traced');
      await m.lock();
      const t = spawn('worker', async () => {
        trace('user', 'hello', { n: 1 });
        await m.lock();
        m.unlock();
      });
      await schedulePoint();
      m.unlock();
      await t.join();
    } finally {
      setTraceSink(undefined);
    }
    const kinds = events.map((e) => `${e.task}:${e.kind}:${e.name}`);
    expect(kinds).toContain('1:user:hello');
    expect(kinds).toContain('1:wait:mutex traced');
    const lockOps = events.filter((e) => e.kind === 'lock').map((e) => `${e.task}:${e.args?.op}`);
    // As the kernel's lock_acquire tracepoint: emitted at the request, before any wait.
    expect(lockOps).toEqual(['0:acquire', '1:acquire', '0:release', '1:release']);
    expect(kinds.filter((k) => k.endsWith('sched:switch')).length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.ts).toBeGreaterThan(events[i - 1]!.ts);
    expect(events.find((e) => e.name === 'hello')?.args).toEqual({ n: 1 });
  });

  it('trace is a no-op without a sink and validates with one', () => {
    trace('', '');
    setTraceSink(() => {});
    try {
      expect(() => trace('', 'x')).toThrow(/EINVAL/);
    } finally {
      setTraceSink(undefined);
    }
    expect(() => setTraceSink(3 as never)).toThrow(/EINVAL: setTraceSink/);
  });

  it('an explorer run emits the same trace when replayed', async () => {
    const run = async () => {
      const events: string[] = [];
      setTraceSink((e) => events.push(`${e.task}:${e.kind}:${e.name}`));
      try {
        await explore(
          async () => {
            const ts = ['a', 'b'].map((n) => spawn(n, () => schedulePoint()));
            for (const t of ts) await t.join();
          },
          { policy: 'random', seed: 9, runs: 1 },
        );
      } finally {
        setTraceSink(undefined);
      }
      return events;
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(5);
    expect(await run()).toEqual(first);
  });
});

describe('resetRuntime', () => {
  it('cancels blocked tasks and rejects bad options', async () => {
    const m = new Mutex('m');
    await m.lock();
    const t = spawn('stuck', () => m.lock());
    await schedulePoint();
    expect(t.done).toBe(false);
    resetRuntime();
    expect(() => resetRuntime({ lockdep: 1 as never })).toThrow(
      /EINVAL: resetRuntime: opts.lockdep/,
    );
    expect(() => resetRuntime(null as never)).toThrow(/EINVAL/);
  });

  it('is EBUSY inside an explorer run', async () => {
    const res = await explore(() => resetRuntime(), { policy: 'dfs' });
    expect(isKernelError(res.failure?.error, 'EBUSY')).toBe(true);
  });
});

describe('violations', () => {
  it('carry their kind in the message', () => {
    const v = new RuntimeViolation('deadlock', 'x');
    expect(v.message).toBe('[deadlock] x');
    expect(v.name).toBe('RuntimeViolation');
  });
});

describe('teardown', () => {
  it('tasks of a runtime that was reset never run again', async () => {
    const log: string[] = [];
    spawn('orphan', () => {
      log.push('ran');
    });
    // Park main without awaiting: the old runtime now has a switch queued.
    void schedulePoint();
    resetRuntime();
    const t = spawn('fresh', () => {
      log.push('fresh');
    });
    await t.join();
    expect(log).toEqual(['fresh']);
  });
});
