export { Completion } from './completion.js';
export {
  inAtomic,
  inNonBlock,
  mightSleep,
  nonBlockEnd,
  nonBlockStart,
  preemptDisable,
  preemptEnable,
} from './context.js';
export { ERRNO, type Errno, isKernelError, KernelError } from './errors.js';
export {
  checkDeterminism,
  type ExploreOptions,
  type ExploreResult,
  explore,
  exploreOrThrow,
  replay,
  type ScheduleFailure,
} from './explore/explore.js';
export {
  __GFP_DIRECT_RECLAIM,
  __GFP_FS,
  __GFP_HIGH,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NOLOCKDEP,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  fsReclaimAcquire,
  fsReclaimRelease,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  mightAlloc,
} from './gfp.js';
export { Kref } from './kref.js';
export { LockdepMap } from './lockdep-map.js';
export { Mutex } from './mutex.js';
export { Prng } from './prng.js';
export { reportViolation } from './report-violation.js';
export { RwSemaphore } from './rw-semaphore.js';
export { SeqCount } from './seqcount.js';
export { SpinLock } from './spinlock.js';
export { Srcu } from './srcu.js';
export type { Task } from './task.js';
export {
  currentTask,
  kthreadShouldStop,
  kthreadStop,
  type ResetOptions,
  resetRuntime,
  schedulePoint,
  spawn,
} from './tasks.js';
export { setTraceSink, type TraceEvent, trace } from './trace.js';
export { RuntimeViolation, type ViolationKind } from './violation.js';
export { WaitQueue } from './wait-queue.js';
