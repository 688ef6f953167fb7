/**
 * An address space (struct mm_struct): the VMA list, the page table, mmap_lock, the
 * page-table lock, the user and count references, and the notifier subscriptions.
 *
 * Locking (written next to the state it guards):
 * - `mmapLock` (rw-semaphore): the VMA list and each VMA's fields. Faults, GUP and the
 *   walk API take it for read; mmap/munmap/mprotect/fork/exit take it for write.
 * - `ptl` (spinlock, one per mm, the kernel's split PTLs merged): every page-table entry
 *   write, and the page metadata changes that go with it (mapcount, PG_ANON_EXCLUSIVE).
 *   Never held across an await: notifier starts/ends run outside it.
 * - `users` (mm_users) keeps the address space mapped; `count` (mm_count) keeps the struct.
 */

import {
  MMU_NOTIFIER_RANGE_BLOCKABLE,
  type MmuNotifierEvent,
  type MmuNotifierMm,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  mmuNotifierRangeInit,
} from '@hmmkit/mmu-notifier';
import { KernelError, RwSemaphore, SpinLock } from '@hmmkit/runtime';
import { exitMmap } from './exit.js';
import { handleMmFault } from './fault.js';
import { forkMm } from './fork.js';
import {
  getUserPages,
  getUserPagesLocked,
  type PageRef,
  pinUserPages,
  pinUserPagesLocked,
} from './gup.js';
import { madvise } from './madvise.js';
import { type MmapOptions, mmap, munmap } from './mmap.js';
import { mprotect } from './mprotect.js';
import { mremap } from './mremap.js';
import { PageTable } from './page-table.js';
import type { PhysicalMemory } from './physical-memory.js';
import { accessRead, accessWrite } from './uaccess.js';
import type { Vma } from './vma.js';

let nextMmId = 1;

/**
 * One process's address space. Mirrors struct mm_struct (include/linux/mm_types.h).
 *
 * @example
 * const memory = new PhysicalMemory({ pages: 256 });
 * const mm = Mm.create(memory);
 * const addr = await mm.mmap(8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
 * await mm.write(addr, new Uint8Array([1, 2, 3]));
 * (await mm.read(addr, 3)); // Uint8Array [1, 2, 3]
 * await mm.exit();
 */
export class Mm implements MmuNotifierMm {
  readonly id = nextMmId++;
  /** mmap_lock: guards the VMA list. */
  readonly mmapLock = new RwSemaphore('mmap_lock');
  /** Page-table lock: guards page-table entries and their mapcounts. */
  readonly ptl = new SpinLock('ptl');
  /** The page table, read through walkPageRange()/PageTableWalker by other packages. */
  readonly pt = new PageTable();
  /** VMAs sorted by start, non-overlapping (the maple tree). */
  readonly vmas: Vma[] = [];
  /** mm->notifier_subscriptions. */
  readonly notifiers: MmuNotifierSubscriptions;
  private users = 1;
  private count = 1;
  private exited = false;

  private constructor(readonly memory: PhysicalMemory) {
    this.notifiers = new MmuNotifierSubscriptions(this);
    memory.mms.add(this);
  }

  /**
   * Creates an empty address space with one user (mm_alloc).
   * @throws KernelError EINVAL when memory is not a PhysicalMemory.
   */
  static create(memory: PhysicalMemory): Mm {
    if (typeof memory !== 'object' || memory === null || !('mapcount' in memory))
      throw new KernelError('EINVAL', `memory must be a PhysicalMemory, got ${String(memory)}`);
    return new Mm(memory);
  }

  // ---- references (kernel/fork.c) -------------------------------------------------------

  /** mm_users (atomic_read(&mm->mm_users)). */
  mmUsers(): number {
    return this.users;
  }

  /** mm_count (atomic_read(&mm->mm_count)). */
  mmCount(): number {
    return this.count;
  }

  /** Takes a user reference (mmget); the caller must already hold one. */
  mmget(): void {
    if (this.users <= 0) throw new KernelError('EINVAL', `mmget on mm ${this.id} with no users`);
    this.users++;
  }

  /** Takes a user reference unless the address space is already torn down (mmget_not_zero). */
  mmgetNotZero(): boolean {
    if (this.users <= 0) return false;
    this.users++;
    return true;
  }

  /**
   * Drops a user reference; the last one tears the address space down (mmput → exit_mmap).
   * **Context**: may sleep (runs the notifier release and unmaps everything).
   */
  async mmput(): Promise<void> {
    if (this.users <= 0) throw new KernelError('EINVAL', `mmput on mm ${this.id} with no users`);
    if (--this.users > 0) return;
    await exitMmap(this);
    this.memory.mms.delete(this);
    this.mmdrop();
  }

  /** Takes a count reference on the struct (mmgrab). */
  mmgrab(): void {
    if (this.count <= 0) throw new KernelError('EINVAL', `mmgrab on freed mm ${this.id}`);
    this.count++;
  }

  /** Drops a count reference (mmdrop). */
  mmdrop(): void {
    if (this.count <= 0) throw new KernelError('EINVAL', `mmdrop on freed mm ${this.id}`);
    this.count--;
  }

  // ---- VMA lookup (mm/mmap.c) -------------------------------------------------------------

  /**
   * The VMA containing `addr`, or undefined (vma_lookup). For @hmmkit/hmm,
   * @hmmkit/device-exclusive and drivers.
   * **Locking**: mmap_lock held (read or write).
   */
  vmaLookup(addr: number): Vma | undefined {
    const v = this.findVma(addr);
    return v !== undefined && v.start <= addr ? v : undefined;
  }

  /** The first VMA ending above `addr` (find_vma). **Locking**: mmap_lock held. */
  findVma(addr: number): Vma | undefined {
    const vmas = this.vmas;
    let lo = 0;
    let hi = vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (vmas[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return vmas[lo];
  }

  /** Whether any VMA overlaps [start, end). */
  anyVmaIn(start: number, end: number): boolean {
    const v = this.findVma(start);
    return v !== undefined && v.start < end;
  }

  /** Inserts `vma` keeping the list sorted (vma_link). */
  linkVma(vma: Vma): void {
    const i = this.findIndex(vma.start);
    this.vmas.splice(i, 0, vma);
  }

  /** Index of the first VMA ending above `addr`. */
  findIndex(addr: number): number {
    const v = this.findVma(addr);
    return v === undefined ? this.vmas.length : this.vmas.indexOf(v);
  }

  /** Whether exit() has run for this process. */
  get isExited(): boolean {
    return this.exited;
  }

  // ---- notifier helpers -----------------------------------------------------------------

  /** mmu_notifier_range_init() + blockable mmu_notifier_invalidate_range_start(). */
  async invalidateStart(
    event: MmuNotifierEvent,
    start: number,
    end: number,
    owner?: unknown,
  ): Promise<MmuNotifierRange> {
    const range = mmuNotifierRangeInit(
      event,
      MMU_NOTIFIER_RANGE_BLOCKABLE,
      this,
      start,
      end,
      owner,
    );
    await this.notifiers.invalidateRangeStart(range);
    return range;
  }

  // ---- system calls and CPU accesses ------------------------------------------------------

  /**
   * Maps `length` bytes. Mirrors do_mmap() (mm/mmap.c).
   * **Locking**: takes the mmap_lock for write; may sleep. MAP_FIXED over existing mappings
   * sends MMU_NOTIFY_UNMAP for the range replaced.
   * @throws KernelError EBADF (no file and not MAP_ANONYMOUS), EINVAL (bad length, flags,
   * alignment, offset), ENOMEM (no room, past TASK_SIZE, too few free hugetlb pages), EPERM
   * (MAP_FIXED below mmap_min_addr), EEXIST (MAP_FIXED_NOREPLACE over a mapping),
   * EOPNOTSUPP (shared MAP_HUGETLB, unknown flags with MAP_SHARED_VALIDATE).
   */
  mmap(length: number, prot: number, flags: number, opts?: MmapOptions): Promise<number> {
    return mmap(this, length, prot, flags, opts ?? {});
  }

  /**
   * Unmaps [addr, addr + length). Mirrors do_vmi_munmap() (mm/vma.c).
   * **Locking**: mmap_lock for write; sends MMU_NOTIFY_UNMAP (start, PTEs cleared, end,
   * secondary TLB flush, pages freed).
   * @throws KernelError EINVAL (unaligned addr, zero length, past TASK_SIZE).
   */
  munmap(addr: number, length: number): Promise<void> {
    return munmap(this, addr, length);
  }

  /**
   * Changes the protection of [addr, addr + len). Mirrors do_mprotect_pkey() (mm/mprotect.c).
   * **Locking**: mmap_lock for write; MMU_NOTIFY_PROTECTION_VMA per VMA with page tables.
   * @throws KernelError EINVAL (unaligned, bad prot bits), ENOMEM (hole in the range; VMAs
   * before the hole keep their new protection, as in the kernel), EACCES (beyond VM_MAY*).
   */
  mprotect(addr: number, length: number, prot: number): Promise<void> {
    return mprotect(this, addr, length, prot);
  }

  /**
   * Resizes or moves a mapping. Mirrors mremap() (mm/mremap.c): shrink unmaps the tail, grow
   * extends in place when the space after is free, otherwise MREMAP_MAYMOVE moves it (one
   * MMU_NOTIFY_UNMAP over the old range around the entry move, then the old range unmapped).
   * **Locking**: mmap_lock for write; may sleep.
   * @throws KernelError EINVAL (bad flags, unaligned, zero new length, overlapping
   * MREMAP_FIXED ranges), EFAULT (old range not inside one mapping), ENOMEM (cannot grow
   * in place without MREMAP_MAYMOVE, no room), EOPNOTSUPP (MREMAP_DONTUNMAP, old length 0).
   */
  mremap(
    oldAddr: number,
    oldLength: number,
    newLength: number,
    flags: number,
    newAddr = 0,
  ): Promise<number> {
    return mremap(this, oldAddr, oldLength, newLength, flags, newAddr);
  }

  /**
   * Gives advice about [addr, addr + len). Mirrors do_madvise() (mm/madvise.c).
   * MADV_DONTNEED sends MMU_NOTIFY_CLEAR and zaps; MADV_FREE sends MMU_NOTIFY_CLEAR and
   * marks anon pages lazily freeable; MADV_HUGEPAGE/NOHUGEPAGE and MADV_DONTFORK/DOFORK
   * change VMA flags.
   * @throws KernelError EINVAL (unaligned, unknown advice, DONTNEED on VM_PFNMAP), ENOMEM (hole).
   */
  madvise(addr: number, length: number, advice: number): Promise<void> {
    return madvise(this, addr, length, advice);
  }

  /**
   * Creates a child address space (dup_mmap in kernel/fork.c): private pages are shared
   * copy-on-write (parent PTEs write-protected under MMU_NOTIFY_PROTECTION_PAGE), pinned anon
   * pages are copied at once, VM_DONTCOPY VMAs are left out.
   * **Locking**: parent mmap_lock for write; may sleep.
   * @throws KernelError ENOMEM when a pinned page cannot be copied or a device-exclusive
   * page is locked (its holder, e.g. a driver between makeDeviceExclusive and unlock, keeps
   * the entry: copy_nonpresent_pte's -EBUSY); ESRCH after exit().
   */
  fork(): Promise<Mm> {
    return forkMm(this);
  }

  /**
   * The process exits: drops its user reference (mmput); the last reference runs exit_mmap:
   * notifiers.release(), then one MMU_NOTIFY_UNMAP over everything and all pages freed.
   * @throws KernelError ESRCH when the process already exited.
   */
  async exit(): Promise<void> {
    if (this.exited) throw new KernelError('ESRCH', `mm ${this.id} already exited`);
    this.exited = true;
    await this.mmput();
  }

  /**
   * CPU loads of `length` bytes at `addr`, faulting as a user access would.
   * **Locking**: takes the mmap_lock for read; may sleep.
   * @throws KernelError EFAULT where the process would get SIGSEGV or SIGBUS; EINVAL on a
   * negative or non-integer length; ENOMEM when a fault runs out of memory; ESRCH after exit().
   */
  read(addr: number, length: number): Promise<Uint8Array> {
    return accessRead(this, addr, length);
  }

  /** CPU stores of `data` at `addr`; same rules as read(). */
  write(addr: number, data: Uint8Array): Promise<void> {
    return accessWrite(this, addr, data);
  }

  /**
   * Resolves a fault at `addr`. Mirrors handle_mm_fault() (mm/memory.c), VMA lookup and
   * access check included (as the arch fault handler / GUP do before calling it).
   * **Locking**: the caller holds the mmap_lock for read; may sleep. Never called from an
   * invalidation callback.
   * @returns VM_FAULT_* bits: 0 on success, VM_FAULT_SIGSEGV (no VMA or access not allowed),
   * VM_FAULT_SIGBUS (beyond end of file, device entry without a hook), VM_FAULT_OOM.
   */
  handleMmFault(addr: number, flags: number): Promise<number> {
    return handleMmFault(this, addr, flags);
  }

  /**
   * Takes a reference on `npages` pages from `addr`. Mirrors get_user_pages_remote()
   * (mm/gup.c). Returns fewer pages than asked when a later page fails.
   * @throws KernelError EFAULT (no VMA, VM_IO/VM_PFNMAP, access not allowed), EOPNOTSUPP
   * (FOLL_SPLIT_PMD on a hugetlb VMA), ENOMEM, EINVAL.
   */
  getUserPages(addr: number, npages: number, gupFlags: number): Promise<PageRef[]> {
    return getUserPages(this, addr, npages, gupFlags);
  }

  /**
   * getUserPages() for a caller that already holds the mmap_lock (read), as
   * get_user_pages_remote() requires in the kernel; FOLL_SPLIT_PMD splits a PMD-mapped THP
   * first (make_device_exclusive).
   * **Locking**: mmap_lock held by the caller (asserted); may sleep.
   * @throws KernelError as getUserPages().
   */
  getUserPagesLocked(addr: number, npages: number, gupFlags: number): Promise<PageRef[]> {
    return getUserPagesLocked(this, addr, npages, gupFlags);
  }

  /** pinUserPages() for a caller that already holds the mmap_lock (read). */
  pinUserPagesLocked(addr: number, npages: number, gupFlags: number): Promise<PageRef[]> {
    return pinUserPagesLocked(this, addr, npages, gupFlags);
  }

  /**
   * Pins `npages` pages from `addr` for DMA. Mirrors pin_user_pages_remote(); FOLL_LONGTERM
   * migrates device pages to ordinary RAM first. Pinned pages are never freed while pinned.
   * @throws KernelError as getUserPages().
   */
  pinUserPages(addr: number, npages: number, gupFlags: number): Promise<PageRef[]> {
    return pinUserPages(this, addr, npages, gupFlags);
  }
}
