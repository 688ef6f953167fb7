import { describe, expect, it } from 'vitest';
import {
  checkDeterminism,
  explore,
  isKernelError,
  Mutex,
  type RuntimeViolation,
  replay,
  SpinLock,
  schedulePoint,
  spawn,
  WaitQueue,
} from '../src/index.js';

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('explorer failure detection', () => {
  it('a task awaiting a promise that is not a runtime primitive is a stray-await', async () => {
    const res = await explore(
      async () => {
        const t = spawn('stray', async () => {
          await new Promise<void>(() => {});
        });
        await t.join();
      },
      { policy: 'dfs' },
    );
    const e = res.failure?.error as RuntimeViolation;
    expect(e.kind).toBe('stray-await');
    expect(e.message).toMatch(/task stray#1 awaited something that is not a runtime primitive/);
  });

  it('awaiting an already settled promise is not a stray await', async () => {
    const res = await explore(
      async () => {
        await Promise.resolve();
        await schedulePoint();
      },
      { policy: 'dfs' },
    );
    expect(res.failure).toBeUndefined();
    expect(res.exhausted).toBe(true);
  });

  it('a violation fails the run even if the scenario catches it', async () => {
    const res = await explore(
      () => {
        try {
          new SpinLock('x').unlock();
        } catch {
          // swallowed, as buggy code would
        }
      },
      { policy: 'random', runs: 3 },
    );
    expect((res.failure?.error as RuntimeViolation | undefined)?.kind).toBe('lock-misuse');
    expect(res.runs).toBe(1);
  });

  it('an error in a task nobody joins fails the run', async () => {
    const res = await explore(
      () => {
        spawn('orphan', () => {
          throw new Error('orphan failed');
        });
      },
      { policy: 'dfs' },
    );
    expect((res.failure?.error as Error | undefined)?.message).toBe('orphan failed');
  });

  it('an error the scenario observes through join does not fail the run', async () => {
    const res = await explore(
      async () => {
        const t = spawn('thrower', () => {
          throw new Error('expected');
        });
        await expect(t.join()).rejects.toThrow('expected');
      },
      { policy: 'dfs' },
    );
    expect(res.failure).toBeUndefined();
  });

  it('a task left blocked after main returns is reported as a deadlock', async () => {
    const res = await explore(
      () => {
        const wq = new WaitQueue('never');
        spawn('sleeper', () => wq.waitEvent(() => false));
      },
      { policy: 'dfs' },
    );
    const e = res.failure?.error as RuntimeViolation;
    expect(e.kind).toBe('deadlock');
    expect(e.message).toMatch(/sleeper#1 waits for wait_event\(never\) \(nobody left to wake it\)/);
  });

  it('a run longer than maxSteps fails as a livelock', async () => {
    const res = await explore(
      async () => {
        for (;;) await schedulePoint();
      },
      { policy: 'random', maxSteps: 50, runs: 1 },
    );
    expect((res.failure?.error as RuntimeViolation | undefined)?.kind).toBe('livelock');
    expect(res.failure?.schedule).toMatch(/:max=50$/);
    await expect(
      replay(res.failure!.schedule, async () => {
        for (;;) await schedulePoint();
      }),
    ).rejects.toMatchObject({ kind: 'livelock' });
  });

  it('the determinism check catches a scenario that depends on state outside the run', async () => {
    let calls = 0;
    const scenario = async () => {
      calls++;
      if (calls % 2 === 0) spawn('sometimes', () => {});
      await schedulePoint();
    };
    const res = await explore(scenario, { policy: 'dfs', determinism: true });
    expect((res.failure?.error as RuntimeViolation | undefined)?.kind).toBe('nondeterminism');
    expect(res.failure?.replay).toMatch(/^checkDeterminism\('dfs:0:[^']*', scenario\)$/);
    await expect(checkDeterminism('dfs:0:-', scenario)).rejects.toMatchObject({
      kind: 'nondeterminism',
    });
  });

  it('the determinism check passes a self-contained scenario', async () => {
    const scenario = async () => {
      const m = new Mutex('m');
      const ts = ['a', 'b'].map((n) =>
        spawn(n, async () => {
          await m.lock();
          m.unlock();
        }),
      );
      for (const t of ts) await t.join();
    };
    const res = await explore(scenario, { policy: 'dfs', determinism: true });
    expect(res.failure).toBeUndefined();
    await expect(checkDeterminism('dfs:0:2>2', scenario)).resolves.toBeUndefined();
  });

  it('two explorations at once: the second is EBUSY, the first completes', async () => {
    const scenario = async () => {
      await schedulePoint();
    };
    const [a, b] = await Promise.allSettled([
      explore(scenario, { policy: 'dfs' }),
      explore(scenario, { policy: 'dfs' }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && isKernelError(b.reason, 'EBUSY')).toBe(true);
  });

  it('explore called inside a run is EBUSY and fails that run', async () => {
    const res = await explore(
      async () => {
        await explore(() => {}, { policy: 'dfs' });
      },
      { policy: 'dfs' },
    );
    expect(isKernelError(res.failure?.error, 'EBUSY')).toBe(true);
  });
});

describe('explorer bad input (KernelError EINVAL naming the option)', () => {
  const ok = () => {};
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'unknown policy',
      { policy: 'bfs' },
      /opts.policy must be 'random', 'pct' or 'dfs', got "bfs"/,
    ],
    [
      'negative preemption bound',
      { policy: 'dfs', preemptionBound: -1 },
      /opts.preemptionBound .* got -1/,
    ],
    ['zero runs', { policy: 'random', runs: 0 }, /opts.runs .* got 0/],
    ['fractional seed', { policy: 'pct', seed: 1.5 }, /opts.seed .* got 1.5/],
    ['zero depth', { policy: 'pct', depth: 0 }, /opts.depth .* got 0/],
    ['zero maxSteps', { policy: 'dfs', maxSteps: 0 }, /opts.maxSteps .* got 0/],
    ['non-boolean lockdep', { policy: 'dfs', lockdep: 1 }, /opts.lockdep must be a boolean/],
    ['missing options', undefined, /opts must be an object/],
    ['non-function onRun', { policy: 'dfs', onRun: 'log' }, /opts.onRun must be a function/],
  ];
  for (const [what, opts, msg] of cases) {
    it(`rejects ${what}`, async () => {
      const e = await failureOf(explore(ok, opts as never));
      expect(isKernelError(e, 'EINVAL')).toBe(true);
      expect((e as Error).message).toMatch(msg);
    });
  }

  it('rejects a scenario that is not a function', async () => {
    await expect(explore(3 as never, { policy: 'dfs' })).rejects.toThrow(
      /explore: scenario must be a function/,
    );
    await expect(replay('dfs:0:-', 3 as never)).rejects.toThrow(
      /replay: scenario must be a function/,
    );
  });

  for (const bad of [
    '',
    'dfs:0',
    'bfs:0:-',
    'dfs:x:-',
    'dfs:0:3>1.2>1',
    'dfs:0:3-1',
    'dfs:0:-:fast',
    'dfs:0:-:max=0',
  ]) {
    it(`replay rejects the malformed schedule ${JSON.stringify(bad)}`, async () => {
      const e = await failureOf(replay(bad, ok));
      expect(isKernelError(e, 'EINVAL')).toBe(true);
      expect((e as Error).message).toMatch(/schedule .*got/);
    });
  }
});

describe('several sleeping calls in one turn', () => {
  it('a task awaiting two scheduling points at once resumes once, in every schedule', async () => {
    const res = await explore(
      async () => {
        const m = new Mutex('pair');
        let resumed = 0;
        const t = spawn('both', async () => {
          await Promise.all([schedulePoint(), m.lock()]);
          resumed++;
          m.unlock();
        });
        const other = spawn('other', () => schedulePoint());
        await t.join();
        await other.join();
        if (resumed !== 1) throw new Error(`resumed ${resumed} times`);
      },
      { policy: 'dfs', preemptionBound: 2 },
    );
    expect(res.failure).toBeUndefined();
    expect(res.exhausted).toBe(true);
  });
});
