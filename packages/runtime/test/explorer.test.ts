import { describe, expect, it } from 'vitest';
import {
  type ExploreOptions,
  explore,
  exploreOrThrow,
  RuntimeViolation,
  replay,
  schedulePoint,
  spawn,
} from '../src/index.js';
import { abba, catalogue, checkThenAct, type Fixture } from './fixtures/catalogue.js';

function matches(f: Fixture, e: unknown): boolean {
  if (typeof f.expect === 'string') return e instanceof RuntimeViolation && e.kind === f.expect;
  return e instanceof Error && f.expect.test(e.message);
}

/** Budgets: dfs until exhausted at bound 2 (never more than a few hundred runs here), 500 runs otherwise. */
const policies: ExploreOptions[] = [
  { policy: 'dfs', preemptionBound: 2, runs: 500 },
  { policy: 'pct', seed: 7, runs: 500 },
  { policy: 'random', seed: 7, runs: 500 },
];

describe('the explorer finds every broken fixture and replays it', () => {
  for (const f of catalogue) {
    for (const opts of policies) {
      it(`${f.name} under ${opts.policy} within ${opts.runs} runs`, async () => {
        const res = await explore(f.broken, opts);
        expect(res.failure).toBeDefined();
        const failure = res.failure!;
        expect(matches(f, failure.error)).toBe(true);
        expect(failure.replay).toBe(`replay('${failure.schedule}', scenario)`);
        const err = await replay(failure.schedule, f.broken).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(matches(f, err)).toBe(true);
      });
    }
  }
});

describe('the correct version of every fixture survives exhaustive search', () => {
  for (const f of catalogue) {
    it(`${f.name}: dfs at preemption bound 2 is exhausted without failure`, async () => {
      const res = await exploreOrThrow(f.correct, { policy: 'dfs', preemptionBound: 2 });
      expect(res.exhausted).toBe(true);
      expect(res.runs).toBeGreaterThan(1);
    });
  }
});

describe('explorer behaviour', () => {
  it('without lockdep the ABBA shows up as a deadlock with both wait chains', async () => {
    const res = await explore(abba.broken, { policy: 'dfs', lockdep: false });
    const e = res.failure?.error as RuntimeViolation;
    expect(e.kind).toBe('deadlock');
    expect(e.message).toMatch(/t1#1 waits for mutex abba:B held by t2#2/);
    expect(e.message).toMatch(/t2#2 waits for mutex abba:A held by t1#1/);
    expect(res.failure!.schedule).toMatch(/:nolockdep$/);
    await expect(replay(res.failure!.schedule, abba.broken)).rejects.toMatchObject({
      kind: 'deadlock',
    });
  });

  it('a failing schedule is shrunk to the one preemption the race needs', async () => {
    const res = await explore(checkThenAct.broken, { policy: 'random', seed: 3, runs: 200 });
    expect(res.failure?.schedule).toMatch(/^random:3:\d+>\d+$/);
  });

  it('a schedule without choices replays the default interleaving, which passes', async () => {
    await expect(replay('dfs:0:-', checkThenAct.broken)).resolves.toBeUndefined();
  });

  it('exploreOrThrow puts the replay line in the error message', async () => {
    await expect(exploreOrThrow(checkThenAct.broken, { policy: 'dfs' })).rejects.toThrow(
      /replay: replay\('dfs:0:[^']+', scenario\)/,
    );
  });

  it('every run reports a schedule string that replays it', async () => {
    const seen: Array<[string, boolean]> = [];
    const res = await explore(checkThenAct.broken, {
      policy: 'random',
      seed: 5,
      runs: 50,
      onRun: (s, failed) => seen.push([s, failed]),
    });
    expect(seen.length).toBe(res.runs);
    for (const [schedule, failed] of seen) {
      expect(schedule).toMatch(/^random:5:/);
      const outcome = await replay(schedule, checkThenAct.broken).then(
        () => false,
        () => true,
      );
      expect(outcome).toBe(failed);
    }
    expect(seen.at(-1)?.[1]).toBe(true);
  });

  it('dfs at preemption bound 0 explores only the orders of blocking points', async () => {
    const zero = await explore(checkThenAct.correct, { policy: 'dfs', preemptionBound: 0 });
    const two = await explore(checkThenAct.correct, { policy: 'dfs', preemptionBound: 2 });
    expect(zero.exhausted).toBe(true);
    expect(two.runs).toBeGreaterThan(zero.runs);
  });
});

describe('voluntary yields', () => {
  const pollingScenario = async () => {
    const s = { ready: false };
    const poller = spawn('poller', async () => {
      while (!s.ready) await schedulePoint();
    });
    const setter = spawn('setter', async () => {
      await schedulePoint();
      s.ready = true;
    });
    await poller.join();
    await setter.join();
  };

  for (const opts of [
    { policy: 'dfs', preemptionBound: 2 },
    { policy: 'pct', seed: 1, runs: 200 },
    { policy: 'random', seed: 1, runs: 200 },
  ] as ExploreOptions[]) {
    it(`a loop that polls with schedulePoint lets the other task run (${opts.policy})`, async () => {
      const res = await exploreOrThrow(pollingScenario, { ...opts, maxSteps: 200 });
      if (opts.policy === 'dfs') expect(res.exhausted).toBe(true);
    });
  }

  it('a task counts as polling after 8 yields in a row, then the default switches away', async () => {
    let polls = 0;
    await replay('dfs:0:-', async () => {
      const s = { ready: false };
      const poller = spawn('poller', async () => {
        while (!s.ready) {
          polls++;
          await schedulePoint();
        }
      });
      const setter = spawn('setter', () => {
        s.ready = true;
      });
      await poller.join();
      await setter.join();
    });
    expect(polls).toBe(9);
  });
});
