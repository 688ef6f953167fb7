/**
 * The device TLB: a direct-mapped cache of page-table entries (vpn -> encoded entry) on two
 * typed arrays. It is filled on a page-table walk and emptied only by an explicit flush, as
 * a GPU's TLB/ATC is, so a driver that changes the page table without flushing leaves the
 * device translating through the old entry. An entry that faults on permission is dropped
 * (x86 and GPU MMUs drop the faulting entry before reporting the fault).
 *
 * Locking: none; flushes come from the driver under its update lock, lookups from the DMA
 * engine.
 */

/**
 * A direct-mapped TLB of `entries` slots (a power of two). Mirrors a GPU's per-VMID TLB /
 * a device's ATC, invalidated by amdgpu_gmc_flush_gpu_tlb() or nvkm_vmm_flush().
 * **Locking**: none; see the file comment.
 */
export class DeviceTlb {
  readonly entries: number;
  /** vpn + 1 per slot, 0 = empty. */
  readonly #tags: Float64Array;
  readonly #vals: Float64Array;
  /** Lookups served from the TLB. */
  hits = 0;
  /** Lookups that walked the page table. */
  misses = 0;
  /** Flush requests (range or full). */
  flushes = 0;

  constructor(entries: number) {
    this.entries = entries;
    this.#tags = new Float64Array(entries);
    this.#vals = new Float64Array(entries);
  }

  /** Cached entry for `vpn`, or 0 (counted as a miss). */
  lookup(vpn: number): number {
    const i = vpn % this.entries;
    if (this.#tags[i] === vpn + 1) {
      this.hits++;
      return this.#vals[i]!;
    }
    this.misses++;
    return 0;
  }

  /** Caches `entry` for `vpn`, evicting whatever shared its slot. */
  fill(vpn: number, entry: number): void {
    const i = vpn % this.entries;
    this.#tags[i] = vpn + 1;
    this.#vals[i] = entry;
  }

  /** Drops the entry for `vpn` if cached (no flush counted: the MMU does it on a fault). */
  drop(vpn: number): void {
    const i = vpn % this.entries;
    if (this.#tags[i] === vpn + 1) this.#tags[i] = 0;
  }

  /** Drops every cached entry in [startVpn, endVpn). */
  flushRange(startVpn: number, endVpn: number): void {
    this.flushes++;
    if (endVpn - startVpn >= this.entries) {
      for (let i = 0; i < this.entries; i++) {
        const vpn = this.#tags[i]! - 1;
        if (vpn >= startVpn && vpn < endVpn) this.#tags[i] = 0;
      }
      return;
    }
    for (let vpn = startVpn; vpn < endVpn; vpn++) this.drop(vpn);
  }

  /** Drops every cached entry. */
  flushAll(): void {
    this.flushes++;
    this.#tags.fill(0);
  }

  /** Calls `fn(vpn, entry)` for every cached entry. */
  forEach(fn: (vpn: number, entry: number) => void): void {
    for (let i = 0; i < this.entries; i++)
      if (this.#tags[i] !== 0) fn(this.#tags[i]! - 1, this.#vals[i]!);
  }

  /** Number of valid slots (for tests and statistics). */
  get used(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.#tags[i] !== 0) n++;
    return n;
  }
}
