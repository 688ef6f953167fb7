import { FS_RECLAIM } from './lockdep.js';
import { LockdepMap } from './lockdep-map.js';
import { rt } from './runtime.js';
import { checkInt } from './validate.js';

/**
 * GFP flags (include/linux/gfp_types.h, v6.17 values) and the allocation-context
 * annotations that lockdep uses to find reclaim deadlocks.
 */

/** Can start physical IO. */
export const __GFP_IO = 0x40;
/** Can call down to the filesystem. */
export const __GFP_FS = 0x80;
/** Caller may enter direct reclaim (so the allocation may sleep). */
export const __GFP_DIRECT_RECLAIM = 0x400;
/** Wake kswapd at the low watermark. */
export const __GFP_KSWAPD_RECLAIM = 0x800;
/** Caller is high priority (may use reserves). */
export const __GFP_HIGH = 0x20;
/** Suppress allocation failure reports. */
export const __GFP_NOWARN = 0x2000;
/** Exclude the allocation from lockdep's reclaim tracking. */
export const __GFP_NOLOCKDEP = 0x4000000;
/** Both reclaim bits. */
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
/** Process-context allocation that may sleep and reclaim. */
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/** Never sleeps, no direct reclaim. */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
/** Never sleeps, may use atomic reserves. */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/** Direct reclaim without IO or filesystem recursion. */
export const GFP_NOIO = __GFP_RECLAIM;
/** Direct reclaim and IO, no filesystem recursion. */
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;

const GFP_MAX = 0x7ffffff;

/** `__fs_reclaim_map`: the pseudo-lock held, for lockdep, across direct reclaim. */
const fsReclaimMap = new LockdepMap(FS_RECLAIM);

function checkGfp(fn: string, gfp: number): number {
  return checkInt(fn, 'gfp', gfp, 0, GFP_MAX);
}

/** __need_reclaim() && __GFP_FS: whether this allocation takes the fs_reclaim map. */
function takesFsReclaim(gfp: number): boolean {
  return (
    (gfp & __GFP_DIRECT_RECLAIM) !== 0 && (gfp & __GFP_NOLOCKDEP) === 0 && (gfp & __GFP_FS) !== 0
  );
}

/**
 * Annotates an allocation with `gfp`: records "held locks → fs_reclaim" for
 * reclaim-capable flags, then checks that sleeping is allowed. Mirrors might_alloc().
 *
 * **Details**: call it where a driver would allocate (kmalloc, alloc_page). With
 * GFP_KERNEL under a lock L that an invalidate callback also takes, once the notifier
 * core has taught `fs_reclaim → invalidate_range_start`, the cycle is reported as
 * `reclaim-under-lock` (the nouveau bug class).
 *
 * **Context**: with `__GFP_DIRECT_RECLAIM` it may sleep (violations as mightSleep);
 * GFP_NOWAIT / GFP_ATOMIC are allowed anywhere.
 *
 * @throws KernelError EINVAL if `gfp` is not a gfp mask.
 * @example
 * ```ts
 * await m.lock(); mightAlloc(GFP_NOWAIT); m.unlock(); // fine under any lock
 * ```
 */
export function mightAlloc(gfp: number): void {
  checkGfp('mightAlloc', gfp);
  fsReclaimAcquire(gfp);
  fsReclaimRelease(gfp);
  if (gfp & __GFP_DIRECT_RECLAIM) rt.mightSleep('allocation with gfp', `0x${gfp.toString(16)}`);
}

/**
 * Enters the reclaim context for lockdep (held locks → fs_reclaim). Mirrors
 * fs_reclaim_acquire(); a no-op for masks that cannot direct-reclaim into the fs.
 * @throws KernelError EINVAL if `gfp` is not a gfp mask; RuntimeViolation on a cycle.
 */
export function fsReclaimAcquire(gfp: number): void {
  if (takesFsReclaim(checkGfp('fsReclaimAcquire', gfp))) fsReclaimMap.acquire();
}

/**
 * Leaves the reclaim context. Mirrors fs_reclaim_release().
 * @throws KernelError EINVAL if `gfp` is not a gfp mask; RuntimeViolation
 * `lock-misuse` without a matching fsReclaimAcquire().
 */
export function fsReclaimRelease(gfp: number): void {
  if (takesFsReclaim(checkGfp('fsReclaimRelease', gfp))) fsReclaimMap.release();
}
