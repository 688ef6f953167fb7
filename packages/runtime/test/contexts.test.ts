import { beforeEach, describe, expect, it } from 'vitest';
import {
  inAtomic,
  inNonBlock,
  mightSleep,
  nonBlockEnd,
  nonBlockStart,
  preemptDisable,
  preemptEnable,
  RuntimeViolation,
  resetRuntime,
  schedulePoint,
  spawn,
  WaitQueue,
} from '../src/index.js';

beforeEach(() => resetRuntime());

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as RuntimeViolation).kind;
  }
  return undefined;
}

describe('contexts', () => {
  it('preemptDisable makes the task atomic and nests', () => {
    preemptDisable();
    preemptDisable();
    expect(inAtomic()).toBe(true);
    expect(kindOf(() => mightSleep('msleep'))).toBe('sleep-in-atomic');
    preemptEnable();
    expect(inAtomic()).toBe(true);
    preemptEnable();
    expect(inAtomic()).toBe(false);
    expect(kindOf(() => preemptEnable())).toBe('lock-misuse');
  });

  it('contexts are per task', async () => {
    nonBlockStart();
    const t = spawn('other', () => [inNonBlock(), inAtomic()]);
    nonBlockEnd();
    expect(await t.join()).toEqual([false, false]);
  });

  it('the might_sleep report names the operation, the task and the held locks', () => {
    preemptDisable();
    let e: unknown;
    try {
      mightSleep('kmalloc(GFP_KERNEL)');
    } catch (x) {
      e = x;
    }
    preemptEnable();
    expect(e).toBeInstanceOf(RuntimeViolation);
    expect((e as Error).message).toBe(
      '[sleep-in-atomic] sleeping function called from invalid context: kmalloc(GFP_KERNEL) in task main#0 with preempt_count=1',
    );
  });

  it('a task that exits in atomic or non-blockable context fails with lock-misuse', async () => {
    const a = spawn('atomic-exit', () => preemptDisable());
    const b = spawn('nonblock-exit', () => nonBlockStart());
    await expect(a.join()).rejects.toMatchObject({ kind: 'lock-misuse' });
    await expect(b.join()).rejects.toMatchObject({ kind: 'lock-misuse' });
  });

  it('schedulePoint is a sleep: not allowed in a non-blockable section', async () => {
    nonBlockStart();
    await expect(schedulePoint()).rejects.toMatchObject({ kind: 'sleep-in-nonblock' });
    nonBlockEnd();
  });

  it('hasSleeper tells whether a task waits on the queue', async () => {
    const wq = new WaitQueue('wq');
    let go = false;
    const t = spawn('sleeper', () => wq.waitEvent(() => go));
    await schedulePoint();
    expect(wq.hasSleeper).toBe(true);
    go = true;
    wq.wakeUp();
    await t.join();
    expect(wq.hasSleeper).toBe(false);
  });
});
