export { KernelError } from '@hmmkit/runtime';
export {
  DEVMEM_CHUNK_PAGES,
  DMIRROR_CHUNK_PAGES,
  DMIRROR_NDEVICES,
  HMM_DMIRROR_IOCTLS,
  HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL,
  HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_PUD,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
} from './constants.js';
export { Dmirror, type DmirrorResult } from './dmirror.js';
export { DmirrorDevice, type DmirrorDeviceOptions, type DmirrorKind } from './dmirror-device.js';
