import {
  type MmuIntervalNotifier,
  type MmuIntervalNotifierOps,
  MmuNotifierEvent,
  type MmuNotifierMm,
  type MmuNotifierRange,
  type MmuNotifierSubscriptions,
  mmuNotifierRangeInit,
} from '@hmmkit/mmu-notifier';
import { RwSemaphore } from '@hmmkit/runtime';

export const PAGE = 4096;

/** A range of `subs` over `[start, end)`, event CLEAR unless given. */
export function rangeOf(
  subs: MmuNotifierSubscriptions,
  start: number,
  end: number,
  event = MmuNotifierEvent.CLEAR,
  owner?: unknown,
): MmuNotifierRange {
  return mmuNotifierRangeInit(event, 0, subs.mm, start, end, owner);
}

/** An address space with observable mm_users / mm_count. */
export class CountingMm implements MmuNotifierMm {
  readonly mmapLock = new RwSemaphore('mmap_lock');
  users = 1;
  count = 1;
  mmUsers(): number {
    return this.users;
  }
  mmgrab(): void {
    this.count++;
  }
  mmdrop(): void {
    this.count--;
  }
}

export interface Call {
  sub: MmuIntervalNotifier;
  start: number;
  end: number;
  curSeq: number;
  blockable: boolean;
  event: MmuNotifierEvent;
}

/** Interval ops that record every call in `log`, set the seq and return true. */
export function recordingOps(log: Call[], name?: string, calls?: string[]): MmuIntervalNotifierOps {
  return {
    invalidate(sub, range, curSeq) {
      log.push({
        sub,
        start: range.start,
        end: range.end,
        curSeq,
        blockable: (range.flags & 1) !== 0,
        event: range.event,
      });
      calls?.push(`itree:${name ?? '?'}`);
      sub.setSeq(curSeq);
      return true;
    },
  };
}

/** Runs `fn` and returns the thrown error (fails the test if nothing was thrown). */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** Logs `msg` and returns `ret`: a one-line recording callback. */
export function say<T>(log: string[], msg: string, ret: T): T {
  log.push(msg);
  return ret;
}
