/**
 * A tmpfs file (shmem inode): its page cache maps page offsets to frames, each holding one
 * reference for the cache. Mapped with MAP_SHARED its pages are shared by every mapping;
 * MAP_PRIVATE maps them read-only and copies on write.
 *
 * Lifetime: one reference for the open file (dropped by close()) and one per VMA; the page
 * cache is truncated when the last reference goes (iput → shmem_evict_inode).
 */
import { KernelError } from '@hmmkit/runtime';
import { PAGE_SIZE } from './constants.js';
import { PG_FILE, PG_SWAPBACKED } from './page-flags.js';
import type { PhysicalMemory } from './physical-memory.js';

/** Result of pageAt() for an offset at or past the end of the file (SIGBUS on access). */
export const FILE_EOF = -2;

/** A tmpfs file; see PhysicalMemory.createFile(). Mirrors shmem_file_setup() files. */
export class MemFile {
  /** Page cache: page offset → pfn. */
  readonly cache = new Map<number, number>();
  private bytes: number;
  private refs: number;
  private closed: boolean;

  constructor(
    readonly memory: PhysicalMemory,
    readonly id: number,
    size: number,
    /** false for the internal file behind a MAP_SHARED|MAP_ANONYMOUS mapping (no fd). */
    open = true,
  ) {
    this.bytes = size;
    this.closed = !open;
    this.refs = open ? 1 : 0;
  }

  /** File size in bytes (i_size). */
  get size(): number {
    return this.bytes;
  }

  /**
   * Reads up to `length` bytes at `offset`; short at end of file (shmem_file_read_iter).
   * @throws KernelError EINVAL on negative or non-integer arguments, EBADF-like EINVAL when closed.
   */
  pread(length: number, offset: number): Uint8Array {
    this.assertOpen('pread');
    checkCount('length', length);
    checkCount('offset', offset);
    const n = Math.max(0, Math.min(length, this.bytes - offset));
    const out = new Uint8Array(n);
    for (let done = 0; done < n; ) {
      const pos = offset + done;
      const chunk = Math.min(PAGE_SIZE - (pos % PAGE_SIZE), n - done);
      const pfn = this.cache.get(Math.floor(pos / PAGE_SIZE));
      if (pfn !== undefined) this.memory.readPage(pfn, pos % PAGE_SIZE, out, done, chunk);
      done += chunk;
    }
    return out;
  }

  /**
   * Writes `data` at `offset`, extending the file (shmem_file_write_iter). Mapped pages see
   * the bytes at once; no notifier runs (the page-table entries do not change).
   * @throws KernelError EINVAL on bad arguments, ENOSPC when no frame is free, EFBIG-like
   * EINVAL past 2^47.
   */
  pwrite(data: Uint8Array, offset: number): void {
    this.assertOpen('pwrite');
    if (!(data instanceof Uint8Array)) throw new KernelError('EINVAL', 'data must be a Uint8Array');
    checkCount('offset', offset);
    if (offset + data.length > 2 ** 47)
      throw new KernelError('EINVAL', `offset ${offset} + length ${data.length} exceeds 2^47`);
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const chunk = Math.min(PAGE_SIZE - (pos % PAGE_SIZE), data.length - done);
      const pfn = this.findOrCreate(Math.floor(pos / PAGE_SIZE));
      if (pfn < 0) throw new KernelError('ENOSPC', 'no free page for the tmpfs page cache');
      this.memory.writePage(pfn, pos % PAGE_SIZE, data, done, chunk);
      done += chunk;
    }
    this.bytes = Math.max(this.bytes, offset + data.length);
  }

  /** Drops the open-file reference; the cache goes once no mapping holds the file. */
  close(): void {
    this.assertOpen('close');
    this.closed = true;
    this.put();
  }

  /** Takes a reference for a mapping (get_file on the VMA's vm_file). */
  get(): void {
    this.refs++;
  }

  /** Drops a reference; at zero the page cache is truncated (fput → evict). */
  put(): void {
    if (--this.refs > 0) return;
    for (const pfn of this.cache.values()) this.memory.putPage(pfn);
    this.cache.clear();
  }

  /**
   * The page-cache frame for page offset `pgoff`, created zero-filled when missing
   * (shmem_get_folio); FILE_EOF past the end of the file, -1 when memory is exhausted.
   */
  pageAt(pgoff: number): number {
    if (pgoff * PAGE_SIZE >= this.bytes) return FILE_EOF;
    return this.findOrCreate(pgoff);
  }

  private findOrCreate(pgoff: number): number {
    const have = this.cache.get(pgoff);
    if (have !== undefined) return have;
    const pfn = this.memory.allocPage();
    if (pfn < 0) return -1;
    this.memory.flags[pfn] = PG_FILE | PG_SWAPBACKED;
    this.memory.mapping[pfn] = this.id;
    this.memory.index[pfn] = pgoff;
    this.cache.set(pgoff, pfn);
    return pfn;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new KernelError('EINVAL', `${what} on a closed file (EBADF)`);
  }
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new KernelError('EINVAL', `${name} must be a non-negative integer, got ${v}`);
}
