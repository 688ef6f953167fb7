/**
 * A device page table: virtual page number -> (pfn, permission bits), the model of a GPU's
 * page table or of test_hmm's per-file xarray.
 *
 * Layout: a Map from chunk number (vpn / 512, one "page directory" worth) to a Float64Array
 * of 513 cells; cells 0..511 hold `pfn * 8 + perms` (0 = no entry, perms always has READ),
 * cell 512 counts the live entries so empty chunks are dropped. The last chunk looked up is
 * cached, so a DMA over consecutive pages does one Map lookup per 512 pages and allocates
 * nothing.
 *
 * Invariants: every stored value has DEVICE_PTE_READ; `size` equals the number of non-zero
 * cells; `devicePages` counts entries whose pfn is a ZONE_DEVICE page.
 *
 * Locking: the driver's own lock (the "update lock" of Documentation/mm/hmm.rst) guards
 * every write; the device reads it from its DMA engine without any lock, as hardware does,
 * which is why a driver must clear entries and then flush the TLB before its invalidate
 * callback returns.
 */
import { DEVICE_PTE_PERMS, DEVICE_PTE_READ } from './constants.js';

const CHUNK = 512;

/** Per-context page table. Mirrors a GPU VM's page table / dmirror's `pt` xarray. */
export class DevicePageTable {
  #chunks = new Map<number, Float64Array>();
  #lastKey = -1;
  #last: Float64Array | undefined;
  #size = 0;

  /** Number of valid entries. */
  get size(): number {
    return this.#size;
  }

  /** Encoded entry for `vpn` (`pfn * 8 + perms`), 0 when absent. Allocates nothing. */
  get(vpn: number): number {
    const key = Math.floor(vpn / CHUNK);
    const c = key === this.#lastKey ? this.#last : this.#chunk(key);
    return c === undefined ? 0 : c[vpn - key * CHUNK]!;
  }

  /** Stores `pfn` with `perms` at `vpn`; returns the previous encoded entry (0: none). */
  set(vpn: number, pfn: number, perms: number): number {
    const key = Math.floor(vpn / CHUNK);
    let c = this.#chunk(key);
    if (c === undefined) {
      c = new Float64Array(CHUNK + 1);
      this.#chunks.set(key, c);
      this.#lastKey = key;
      this.#last = c;
    }
    const i = vpn - key * CHUNK;
    const old = c[i]!;
    c[i] = pfn * 8 + ((perms & DEVICE_PTE_PERMS) | DEVICE_PTE_READ);
    if (old === 0) {
      c[CHUNK]!++;
      this.#size++;
    }
    return old;
  }

  /**
   * Clears every entry in [startVpn, endVpn) and calls `onClear(vpn, entry)` for each one
   * removed. Walks only the chunks that exist when the range is larger than the table.
   */
  clear(startVpn: number, endVpn: number, onClear?: (vpn: number, entry: number) => void): number {
    if (endVpn <= startVpn || this.#size === 0) return 0;
    const first = Math.floor(startVpn / CHUNK);
    const last = Math.floor((endVpn - 1) / CHUNK);
    let n = 0;
    if (last - first + 1 > this.#chunks.size) {
      for (const key of [...this.#chunks.keys()])
        if (key >= first && key <= last) n += this.#clearIn(key, startVpn, endVpn, onClear);
    } else {
      for (let key = first; key <= last; key++) n += this.#clearIn(key, startVpn, endVpn, onClear);
    }
    return n;
  }

  /** Calls `fn(vpn, entry)` for every entry, ascending within a chunk. */
  forEach(fn: (vpn: number, entry: number) => void): void {
    for (const [key, c] of this.#chunks)
      for (let i = 0; i < CHUNK; i++) if (c[i] !== 0) fn(key * CHUNK + i, c[i]!);
  }

  #chunk(key: number): Float64Array | undefined {
    const c = this.#chunks.get(key);
    if (c !== undefined) {
      this.#lastKey = key;
      this.#last = c;
    }
    return c;
  }

  #clearIn(
    key: number,
    startVpn: number,
    endVpn: number,
    onClear?: (vpn: number, entry: number) => void,
  ): number {
    const c = this.#chunks.get(key);
    if (c === undefined) return 0;
    const base = key * CHUNK;
    const lo = Math.max(startVpn, base) - base;
    const hi = Math.min(endVpn, base + CHUNK) - base;
    let n = 0;
    for (let i = lo; i < hi; i++) {
      const e = c[i]!;
      if (e === 0) continue;
      c[i] = 0;
      n++;
      onClear?.(base + i, e);
    }
    c[CHUNK] = c[CHUNK]! - n;
    this.#size -= n;
    if (c[CHUNK] === 0) this.#drop(key);
    return n;
  }

  #drop(key: number): void {
    this.#chunks.delete(key);
    if (this.#lastKey === key) {
      this.#lastKey = -1;
      this.#last = undefined;
    }
  }
}

/** pfn of an encoded entry. */
export function entryPfn(entry: number): number {
  return (entry - (entry % 8)) / 8;
}

/** Permission bits of an encoded entry. */
export function entryPerms(entry: number): number {
  return entry % 8;
}
