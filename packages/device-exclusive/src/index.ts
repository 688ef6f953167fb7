export { KernelError } from '@hmmkit/runtime';
export { DeviceExclusivePage } from './exclusive-page.js';
export { makeDeviceExclusive } from './make-device-exclusive.js';
export {
  type DeviceExclusiveRange,
  makeDeviceExclusiveRange,
} from './make-device-exclusive-range.js';
export {
  deviceExclusiveOps,
  installDeviceExclusiveOps,
  removeDeviceExclusiveEntry,
} from './remove-exclusive-entry.js';
