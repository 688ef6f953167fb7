export { KernelError } from '@hmmkit/runtime';
export { DevicePagePool, type DevicePagePoolOptions } from './device-page-pool.js';
export {
  HMM_RANGE_DEFAULT_TIMEOUT,
  type HmmDriverLock,
  type HmmRangeFaultLoopOptions,
  hmmRangeFaultLoop,
} from './driver-loop.js';
export {
  DevicePagemap,
  type DevicePagemapState,
  type MemremapPagesOptions,
  memremapPages,
  memunmapPages,
} from './memremap.js';
export {
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDeviceRange,
} from './migrate-device.js';
export {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  migratePfn,
  migratePfnClear,
  migratePfnFlags,
  migratePfnToPage,
} from './migrate-pfn.js';
export {
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type MigrateVma,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from './migrate-vma.js';
export {
  HMM_PFN_DMA_MAPPED,
  HMM_PFN_ERROR,
  HMM_PFN_FLAGS,
  HMM_PFN_FLAGS_SHIFT,
  HMM_PFN_INOUT_FLAGS,
  HMM_PFN_ORDER_MASK,
  HMM_PFN_P2PDMA,
  HMM_PFN_P2PDMA_BUS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HmmPfns,
  hmmPfnGet,
  hmmPfnSet,
  hmmPfnToMapOrder,
  hmmPfnToPage,
  hmmPfnToPhys,
} from './pfn.js';
export type { HmmRange } from './range.js';
export { hmmRangeFault } from './range-fault.js';
