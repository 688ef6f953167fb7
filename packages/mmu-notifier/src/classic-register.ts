import { fsReclaimAcquire, fsReclaimRelease, GFP_KERNEL, KernelError } from '@hmmkit/runtime';
import { hlistAddHead, hlistDelInit } from './classic-list.js';
import { MmuNotifier } from './notifier.js';
import type { MmuNotifierOps } from './ops.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

const UINT_MAX = 0xffffffff;
const OPS_NAMES = [
  'release',
  'clearFlushYoung',
  'clearYoung',
  'testYoung',
  'invalidateRangeStart',
  'invalidateRangeEnd',
  'archInvalidateSecondaryTlbs',
  'allocNotifier',
  'freeNotifier',
] as const;

function checkOps(ops: unknown): asserts ops is MmuNotifierOps {
  if (typeof ops !== 'object' || ops === null) {
    throw new KernelError('EINVAL', `ops must be an MmuNotifierOps object, got ${String(ops)}`);
  }
  for (const name of OPS_NAMES) {
    const fn = (ops as Record<string, unknown>)[name];
    if (fn !== undefined && typeof fn !== 'function') {
      throw new KernelError('EINVAL', `ops.${name} must be a function, got ${String(fn)}`);
    }
  }
}

/** The notifier to link: a new one for bare ops, or the given, never-registered instance. */
function toNotifier(arg: MmuNotifierOps | MmuNotifier): MmuNotifier {
  if (!(arg instanceof MmuNotifier)) {
    checkOps(arg);
    return new MmuNotifier(arg);
  }
  checkOps(arg.ops);
  if (arg.subs !== undefined && !arg.dropped)
    throw new KernelError('EINVAL', 'notifier is already registered');
  return arg;
}

/**
 * As the kernel does under CONFIG_LOCKDEP (v6.17: in every fs_reclaim_acquire(); older
 * kernels: in __mmu_notifier_register()), record "reclaim, then the start map": a lock that
 * a callback takes must never be held across a reclaim-capable allocation.
 */
function primeReclaimOrder(s: MmuNotifierSubscriptions): void {
  fsReclaimAcquire(GFP_KERNEL);
  s.startMap.acquire();
  s.startMap.release();
  fsReclaimRelease(GFP_KERNEL);
}

/**
 * Turns the interval tree on. The kernel does it under mm_take_all_locks(), which waits out
 * every invalidation in flight, so no start/end pair straddles the switch. Our callers need
 * not hold the rmap locks around a pair, so instead the starts in flight are adopted as active
 * ranges: the state they would have reached with the tree already on (an empty tree: counted,
 * not frozen). An insert made before their end is then placed as "partially excluded".
 */
function adoptStarts(s: MmuNotifierSubscriptions): void {
  s.lock.lock();
  s.active += s.startsBeforeItree;
  s.startsBeforeItree = 0;
  s.itreeEnabled = true;
  s.lock.unlock();
}

/** __mmu_notifier_register(): `sub` undefined turns the interval tree on. */
function registerLocked(s: MmuNotifierSubscriptions, sub: MmuNotifier | undefined): void {
  s.mmapLock.assertWriteLocked();
  if (s.mmUsers() <= 0)
    throw new KernelError('EINVAL', 'register on an mm with no users (mmget() not held)');
  const ops = sub?.ops;
  if (ops?.archInvalidateSecondaryTlbs && (ops.invalidateRangeStart || ops.invalidateRangeEnd)) {
    throw new KernelError(
      'EINVAL',
      'ops cannot combine archInvalidateSecondaryTlbs with invalidateRangeStart/End',
    );
  }
  primeReclaimOrder(s);
  if (!sub) {
    adoptStarts(s);
    return;
  }
  s.mmgrab(); // pairs with the mmdrop() in unregister() / the final put()
  (sub as { mm: unknown }).mm = s.mm;
  sub.subs = s;
  sub.users = 1;
  sub.dropped = false;
  s.lock.lock();
  hlistAddHead(s, sub);
  s.lock.unlock();
}

/** mmu_notifier_register(NULL, mm) under the caller's mmap write lock. */
export function classicRegisterItreeLocked(s: MmuNotifierSubscriptions): void {
  registerLocked(s, undefined);
}

export function classicRegisterLocked(
  s: MmuNotifierSubscriptions,
  arg: MmuNotifierOps | MmuNotifier,
): MmuNotifier {
  const sub = toNotifier(arg);
  registerLocked(s, sub);
  return sub;
}

/** mmu_notifier_register(): takes the mmap lock for write around __mmu_notifier_register(). */
export async function classicRegister(
  s: MmuNotifierSubscriptions,
  arg: MmuNotifierOps | MmuNotifier,
) {
  const sub = toNotifier(arg);
  await s.mmapLock.downWrite();
  try {
    registerLocked(s, sub);
  } finally {
    s.mmapLock.upWrite();
  }
  return sub;
}

/** find_get_mmu_notifier(): the registered notifier with these exact ops, one more user. */
function findGet(s: MmuNotifierSubscriptions, ops: MmuNotifierOps): MmuNotifier | undefined {
  s.lock.lock();
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      if (sub.ops !== ops) continue;
      if (sub.users === UINT_MAX)
        throw new KernelError('EOVERFLOW', 'notifier users would pass UINT_MAX');
      sub.users++;
      return sub;
    }
    return undefined;
  } finally {
    s.lock.unlock();
  }
}

/** mmu_notifier_get_locked() */
export function classicGetLocked(s: MmuNotifierSubscriptions, ops: MmuNotifierOps): MmuNotifier {
  checkOps(ops);
  if (!ops.allocNotifier || !ops.freeNotifier) {
    throw new KernelError('EINVAL', 'get() needs ops.allocNotifier and ops.freeNotifier');
  }
  s.mmapLock.assertWriteLocked();
  const found = findGet(s, ops);
  if (found) return found;
  const sub = ops.allocNotifier(s.mm);
  if (!(sub instanceof MmuNotifier)) {
    throw new KernelError(
      'EINVAL',
      `ops.allocNotifier must return an MmuNotifier, got ${String(sub)}`,
    );
  }
  (sub as { ops: MmuNotifierOps }).ops = ops;
  try {
    registerLocked(s, sub);
  } catch (e) {
    ops.freeNotifier(sub);
    throw e;
  }
  return sub;
}

/** mmu_notifier_get(): mmap write lock around mmu_notifier_get_locked(). */
export async function classicGet(
  s: MmuNotifierSubscriptions,
  ops: MmuNotifierOps,
): Promise<MmuNotifier> {
  checkOps(ops);
  await s.mmapLock.downWrite();
  try {
    return classicGetLocked(s, ops);
  } finally {
    s.mmapLock.upWrite();
  }
}

function registeredSubs(sub: MmuNotifier, what: string): MmuNotifierSubscriptions {
  if (!sub.subs || sub.dropped)
    throw new KernelError('EINVAL', `${what}() on a notifier that is not registered`);
  return sub.subs;
}

/** mmu_notifier_unregister() */
export async function classicUnregister(sub: MmuNotifier): Promise<void> {
  const s = registeredSubs(sub, 'unregister');
  sub.dropped = true;
  if (sub.hashed) {
    // SRCU here makes a concurrent exit's release() wait for our ->release to finish.
    const idx = s.srcu.readLock();
    try {
      const ret = sub.ops.release?.(sub, s.mm);
      if (ret !== undefined) await ret;
    } finally {
      s.srcu.readUnlock(idx);
    }
    s.lock.lock();
    hlistDelInit(s, sub); // not hlist_del_rcu(): release() may have unlinked it already
    s.lock.unlock();
  }
  // Wait for every running callback, including a ->release started by the exit path.
  await s.srcu.synchronize();
  s.mmdrop();
}

/** mmu_notifier_put(): the last reference unlinks and frees after a grace period. */
export function classicPut(sub: MmuNotifier): void {
  const s = registeredSubs(sub, 'put');
  s.lock.lock();
  if (--sub.users !== 0) {
    s.lock.unlock();
    return;
  }
  hlistDelInit(s, sub);
  s.lock.unlock();
  sub.dropped = true;
  s.srcu.callSrcu(() => {
    sub.ops.freeNotifier?.(sub);
    s.mmdrop(); // pairs with the mmgrab() in register
  });
}
