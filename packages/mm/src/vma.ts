/**
 * Virtual memory areas (struct vm_area_struct): a half-open range of the address space with
 * VM_* flags, a page offset and the backing file (none for private anonymous memory).
 *
 * Anonymous rmap (mm/rmap.c anon_vma chains), simplified: each VMA gets its own anon_vma id
 * when its first anon page is created (anon_vma_prepare); a page records that id in
 * `mapping` and linear_page_index() in `index`. A VMA's `anonChain` lists every anon_vma id
 * whose pages it may map: its own plus those inherited through fork and splits. rmap walks
 * visit VMAs whose chain holds the page's id at address `start + (index - pgoff) * 4096`.
 *
 * Locking: the VMA list and every field are changed under the mmap_lock held for write and
 * read under it held for read.
 */
import { PAGE_SIZE, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from './constants.js';
import type { MemFile } from './mem-file.js';

/** One mapping of an address space. Mirrors struct vm_area_struct. */
export class Vma {
  constructor(
    /** First address, page aligned (vm_start). */
    public start: number,
    /** End address, exclusive (vm_end). */
    public end: number,
    /** VM_* flags (vm_flags). */
    public flags: number,
    /** Page offset of `start` in the file, or start >> PAGE_SHIFT for anon (vm_pgoff). */
    public pgoff: number,
    /** Backing tmpfs file (vm_file), undefined for private anonymous memory. */
    readonly file: MemFile | undefined,
    /** This VMA's own anon_vma id, 0 until the first anon page (vma->anon_vma). */
    public anonVma = 0,
    /** Every anon_vma id this VMA may map (anon_vma_chain). */
    public anonChain: number[] = [],
  ) {}

  /** vma_is_anonymous(): no file behind the mapping. */
  get isAnonymous(): boolean {
    return this.file === undefined;
  }

  /** is_cow_mapping(): private and may become writable. */
  get isCow(): boolean {
    return (this.flags & VM_SHARED) === 0;
  }

  /** Page offset (file or linear) of `addr` (linear_page_index). */
  pgoffOf(addr: number): number {
    return this.pgoff + (addr - this.start) / PAGE_SIZE;
  }

  /** Address of page offset `pgoff` in this VMA, or -1 outside it (vma_address). */
  addressOf(pgoff: number): number {
    const addr = this.start + (pgoff - this.pgoff) * PAGE_SIZE;
    return addr >= this.start && addr < this.end ? addr : -1;
  }

  /**
   * Whether a CPU access is allowed (access_error in arch/x86/mm/fault.c): a store needs
   * VM_WRITE, a load any of VM_READ/VM_WRITE/VM_EXEC (vma_is_accessible), as x86 cannot
   * map a page write-only.
   */
  permits(write: boolean): boolean {
    return write
      ? (this.flags & VM_WRITE) !== 0
      : (this.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
  }

  /** A copy covering [start, end) of this VMA, sharing the file and anon_vma chain. */
  slice(start: number, end: number): Vma {
    this.file?.get();
    const v = new Vma(start, end, this.flags, this.pgoffOf(start), this.file, this.anonVma, [
      ...this.anonChain,
    ]);
    return v;
  }
}
