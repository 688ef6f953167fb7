/**
 * The naive baseline: one object per page frame and per page-table entry, entries in a Map
 * keyed by virtual page number. Same operations as the bench runs on Mm: populate, fork
 * (COW: write-protect, share), unmap (drop references, free frames).
 */
interface NaivePage {
  refcount: number;
  mapcount: number;
  anon: boolean;
  data: Uint8Array | undefined;
}

interface NaivePte {
  page: NaivePage;
  write: boolean;
  dirty: boolean;
  young: boolean;
}

export class NaiveMemory {
  readonly free: NaivePage[] = [];
  constructor(pages: number) {
    for (let i = 0; i < pages; i++)
      this.free.push({ refcount: 0, mapcount: 0, anon: false, data: undefined });
  }
}

export class NaiveMm {
  readonly ptes = new Map<number, NaivePte>();
  constructor(readonly memory: NaiveMemory) {}

  populate(start: number, npages: number): void {
    const first = start / 4096;
    for (let i = 0; i < npages; i++) {
      const page = this.memory.free.pop();
      if (page === undefined) throw new Error('out of memory');
      page.refcount = 1;
      page.mapcount = 1;
      page.anon = true;
      this.ptes.set(first + i, { page, write: true, dirty: true, young: true });
    }
  }

  fork(): NaiveMm {
    const child = new NaiveMm(this.memory);
    for (const [vpn, pte] of this.ptes) {
      pte.write = false;
      pte.page.refcount++;
      pte.page.mapcount++;
      child.ptes.set(vpn, { page: pte.page, write: false, dirty: pte.dirty, young: false });
    }
    return child;
  }

  unmap(start: number, npages: number): void {
    const first = start / 4096;
    for (let i = 0; i < npages; i++) {
      const pte = this.ptes.get(first + i);
      if (pte === undefined) continue;
      this.ptes.delete(first + i);
      pte.page.mapcount--;
      if (--pte.page.refcount === 0) {
        pte.page.data = undefined;
        this.memory.free.push(pte.page);
      }
    }
  }
}
