/**
 * A swap device: slots holding the 4 KiB contents of swapped-out anon pages, with a use
 * count per slot (swap_map) equal to the number of swap PTEs referring to it.
 * Slot 0 is never handed out, so a swap PTE's payload is never 0.
 */
import { KernelError } from '@hmmkit/runtime';

/** The swap device (a swap_info_struct with its swap_map). */
export class SwapSpace {
  private count = new Int32Array(64);
  private readonly data: (Uint8Array | undefined)[] = [];
  private readonly free: number[] = [];
  private next = 1;
  private used = 0;

  /** Number of slots in use. */
  get usedSlots(): number {
    return this.used;
  }

  /** Stores `contents` (undefined: a zero page) in a new slot with count 1 (folio_alloc_swap). */
  alloc(contents: Uint8Array | undefined): number {
    const slot = this.free.pop() ?? this.next++;
    if (slot >= this.count.length) {
      const c = new Int32Array(this.count.length * 2);
      c.set(this.count);
      this.count = c;
    }
    this.count[slot] = 1;
    this.data[slot] = contents;
    this.used++;
    return slot;
  }

  /** Use count of `slot` (swp_swapcount). */
  useCount(slot: number): number {
    return this.count[slot] ?? 0;
  }

  /** Contents of `slot`, undefined when the swapped page was all zeros. */
  read(slot: number): Uint8Array | undefined {
    this.assertLive(slot);
    return this.data[slot];
  }

  /** Adds a reference (swap_duplicate, from fork). */
  dup(slot: number): void {
    this.assertLive(slot);
    this.count[slot]!++;
  }

  /** Drops a reference and frees the slot at zero (swap_free). */
  put(slot: number): void {
    this.assertLive(slot);
    if (--this.count[slot]! > 0) return;
    this.data[slot] = undefined;
    this.free.push(slot);
    this.used--;
  }

  private assertLive(slot: number): void {
    if (!((this.count[slot] ?? 0) > 0))
      throw new KernelError('EINVAL', `swap slot ${slot} is free`);
  }
}
