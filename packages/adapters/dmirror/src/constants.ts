/**
 * The values of lib/test_hmm_uapi.h and the sizes lib/test_hmm.c works with.
 */
import { PAGE_SIZE } from '@hmmkit/mm';

/** SNAPSHOT byte: hmm_range_fault() reported HMM_PFN_ERROR for the page. */
export const HMM_DMIRROR_PROT_ERROR = 0xff;
/** SNAPSHOT byte: not mapped (or a page of no other kind below). */
export const HMM_DMIRROR_PROT_NONE = 0x00;
/** SNAPSHOT bit: mapped read-only. */
export const HMM_DMIRROR_PROT_READ = 0x01;
/** SNAPSHOT bit: mapped writable. */
export const HMM_DMIRROR_PROT_WRITE = 0x02;
/** SNAPSHOT bit: the CPU maps the page with a PMD (map order 9). */
export const HMM_DMIRROR_PROT_PMD = 0x04;
/** SNAPSHOT bit: the CPU maps the page with a PUD (map order 18). */
export const HMM_DMIRROR_PROT_PUD = 0x08;
/** SNAPSHOT kind: the shared zero page. */
export const HMM_DMIRROR_PROT_ZERO = 0x10;
/** SNAPSHOT kind: device-private page of the device asking. */
export const HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20;
/** SNAPSHOT kind: device-private page of another dmirror device. */
export const HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30;
/** SNAPSHOT kind: device-coherent page of the device asking. */
export const HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL = 0x40;
/** SNAPSHOT kind: device-coherent page of another dmirror device. */
export const HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE = 0x50;

/** ioctl numbers: _IOWR('H', nr, struct hmm_dmirror_cmd), by name, for traces and tables. */
export const HMM_DMIRROR_IOCTLS = {
  READ: 0x00,
  WRITE: 0x01,
  MIGRATE_TO_DEV: 0x02,
  MIGRATE_TO_SYS: 0x03,
  SNAPSHOT: 0x04,
  EXCLUSIVE: 0x05,
  CHECK_EXCLUSIVE: 0x06,
  RELEASE: 0x07,
} as const;

/**
 * Pages per hmm_range_fault() / migrate_vma / snapshot step: the `pfns[64]`, `src_pfns[64]`
 * arrays on the stack of dmirror_fault(), dmirror_migrate_to_*() and dmirror_snapshot().
 */
export const DMIRROR_CHUNK_PAGES = 64;

/** Pages in one device memory chunk (DEVMEM_CHUNK_SIZE, 256 MiB). */
export const DEVMEM_CHUNK_PAGES = (256 * 1024 * 1024) / PAGE_SIZE;

/** Devices the module creates: two device-private, two device-coherent. */
export const DMIRROR_NDEVICES = 4;

/**
 * Length of the notifier each open inserts: ULONG_MAX & PAGE_MASK in the kernel, the
 * largest page multiple whose last byte is a safe integer here.
 */
export const DMIRROR_NOTIFIER_LENGTH = Math.floor(Number.MAX_SAFE_INTEGER / PAGE_SIZE) * PAGE_SIZE;

/** Largest bounce buffer the model allocates (vmalloc() failing beyond it: ENOMEM). */
export const DMIRROR_MAX_BOUNCE = 2 ** 30;
