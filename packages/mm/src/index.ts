export { KernelError } from '@hmmkit/runtime';
export { addNewAnonRmap, anonVmaPrepare } from './anon.js';
export * from './constants.js';
export { DevPagemap, type DevPagemapOps, type DevPagemapType } from './dev-pagemap.js';
export { restoreExclusivePteLocked } from './exclusive-restore.js';
export type { PageRef } from './gup.js';
export { assertInvariants, checkInvariants } from './invariants.js';
export { MemFile } from './mem-file.js';
export { migratePage } from './migrate.js';
export {
  removeMigrationPtes,
  tryToMigrate,
  unmapToMigrationLocked,
} from './migration-entries.js';
export { Mm } from './mm.js';
export type { MmapOptions } from './mmap.js';
export { changeProtNuma } from './numa.js';
export { oomReap } from './oom-reaper.js';
export {
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_BUDDY,
  PG_DIRTY,
  PG_FILE,
  PG_HEAD,
  PG_LOCKED,
  PG_REFERENCED,
  PG_SWAPBACKED,
  PG_ZONE_DEVICE,
} from './page-flags.js';
export { PageTableWalker } from './page-walk.js';
export {
  type DeviceExclusiveOps,
  HPAGE_NR,
  PhysicalMemory,
  type PhysicalMemoryOptions,
  ZERO_PFN,
} from './physical-memory.js';
export {
  PTE_DIRTY,
  PTE_HUGE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  PteKind,
  pteKind,
  SWP_WRITE,
  swpBits,
} from './pte.js';
export { ptepClearFlush, setPteAt } from './pte-edit.js';
export { reclaimPage } from './reclaim.js';
export { type RmapHit, rmapWalk } from './rmap.js';
export { remapPfnRange, vmInsertPage } from './special-mapping.js';
export { splitHugePmd } from './thp.js';
export type { VmFault } from './vm-fault.js';
export { Vma } from './vma.js';
