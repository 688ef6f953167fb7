/**
 * CPU loads and stores from user space (copy_from_user / copy_to_user semantics with the
 * arch fault handler's retry loop, arch/x86/mm/fault.c do_user_addr_fault): each page is
 * accessed through its PTE when the PTE allows it, otherwise handle_mm_fault() runs and
 * the access is retried. Hardware sets the accessed bit, and the dirty bit on stores.
 */
import { KernelError } from '@hmmkit/runtime';
import {
  FAULT_FLAG_USER,
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
} from './constants.js';
import { handleMmFault } from './fault.js';
import type { Mm } from './mm.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_PROTNONE, PTE_WRITE, PTE_YOUNG, pteKind } from './pte.js';
import { leafPfn, leafSlot } from './thp.js';
import { checkAlive, checkUserRange } from './validate.js';

const KIND_NAMES = ['none', 'present', 'swap', 'migration', 'device-private', 'device-exclusive'];

/** A fault on more retries than this is reported as a livelock (EFAULT). */
const MAX_FAULT_RETRIES = 1000;

/** copy_from_user() semantics: the body of Mm.read(). */
export async function accessRead(mm: Mm, addr: number, length: number): Promise<Uint8Array> {
  checkAlive(mm);
  checkUserRange(addr, length);
  const out = new Uint8Array(length);
  await mm.mmapLock.downRead();
  try {
    for (let done = 0; done < length; ) {
      const at = addr + done;
      const off = at % PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - off, length - done);
      const pfn = await faultInForAccess(mm, at - off, false);
      mm.memory.readPage(pfn, off, out, done, chunk);
      done += chunk;
    }
  } finally {
    mm.mmapLock.upRead();
  }
  return out;
}

/** copy_to_user() semantics: the body of Mm.write(). */
export async function accessWrite(mm: Mm, addr: number, data: Uint8Array): Promise<void> {
  checkAlive(mm);
  if (!(data instanceof Uint8Array))
    throw new KernelError('EINVAL', `data must be a Uint8Array, got ${String(data)}`);
  checkUserRange(addr, data.length);
  await mm.mmapLock.downRead();
  try {
    for (let done = 0; done < data.length; ) {
      const at = addr + done;
      const off = at % PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - off, data.length - done);
      const pfn = await faultInForAccess(mm, at - off, true);
      mm.memory.writePage(pfn, off, data, done, chunk);
      done += chunk;
    }
  } finally {
    mm.mmapLock.upRead();
  }
}

/**
 * Returns the pfn the CPU would access at `page`, faulting until the PTE allows the access.
 * Sets the accessed (and on stores dirty) bit as the MMU does.
 */
async function faultInForAccess(mm: Mm, page: number, write: boolean): Promise<number> {
  const need = PTE_PRESENT | (write ? PTE_WRITE : 0);
  for (let tries = 0; tries < MAX_FAULT_RETRIES; tries++) {
    const slot = leafSlot(mm, page);
    if (slot >= 0) {
      const bits = mm.pt.bits[slot]!;
      if ((bits & need) === need && !(bits & PTE_PROTNONE)) {
        mm.pt.bits[slot] = bits | PTE_YOUNG | (write ? PTE_DIRTY : 0);
        return leafPfn(mm, page, slot);
      }
    }
    const ret = await handleMmFault(mm, page, FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0));
    if (ret & VM_FAULT_ERROR) throw faultError(mm, page, ret);
  }
  throw new KernelError(
    'EFAULT',
    `fault at ${page} did not resolve after ${MAX_FAULT_RETRIES} tries`,
  );
}

/** vm_fault_to_errno() with a message saying which signal the process would get and why. */
export function faultError(mm: Mm, addr: number, ret: number): KernelError {
  if (ret & VM_FAULT_OOM) return new KernelError('ENOMEM', `out of memory at ${addr}`);
  const slot = mm.pt.pteSlot(addr, false);
  const kind = slot >= 0 ? KIND_NAMES[pteKind(mm.pt.bits[slot]!)] : 'none';
  const signal = ret & VM_FAULT_SIGBUS ? 'SIGBUS' : 'SIGSEGV';
  const why =
    kind === 'device-private'
      ? ': device-private entry whose pagemap has no migrateToRam hook'
      : kind === 'device-exclusive'
        ? ': device-exclusive entry and no restoreExclusive hook installed'
        : '';
  return new KernelError('EFAULT', `${signal} at ${addr} (entry ${kind})${why}`);
}
