export { KernelError } from '@hmmkit/runtime';
export type { DeviceJob, DmaOp } from './command-queue.js';
export { CommandQueue } from './command-queue.js';
export {
  DEVICE_PTE_ATOMIC,
  DEVICE_PTE_PERMS,
  DEVICE_PTE_READ,
  DEVICE_PTE_WRITE,
  type DeviceAccess,
} from './constants.js';
export {
  DeviceContext,
  type DevicePte,
  type DeviceTlbStats,
  type StaleCheckMode,
} from './context.js';
export { Device, type DeviceOptions } from './device.js';
export type { DeviceFault, DeviceFaultHandler } from './fault-queue.js';
export { DmaFence } from './fence.js';
export { DeviceMemoryPool, type DeviceMemoryPoolOptions } from './memory-pool.js';
export { type CpuView, type StaleAccess, StaleTranslationError } from './stale-check.js';
