/**
 * The stale-translation checker: at every page a DMA touches, compares the translation the
 * device used with the owning process's CPU page table and with the page's state.
 *
 * The rule it enforces is ARCHITECTURE.md's first invariant: once an invalidation has
 * returned, a device holds no translation for a page the CPU no longer maps at that
 * address, and no page is freed while a device can reach it. A mirror driver clears its
 * entries and flushes the TLB inside invalidate_range_start(), before the CPU changes the
 * PTE, so a correct driver never trips it; one that forgets, or flushes too late, does.
 *
 * | device access at va -> pfn          | consistent when the CPU entry at va is          |
 * | ----------------------------------- | ----------------------------------------------- |
 * | read                                | present (not PROT_NONE), device-private or      |
 * |                                     | device-exclusive, for the same pfn              |
 * | write / atomic                      | the same, and writable (exclusive counts)       |
 * | any, pfn free                       | never (PG_BUDDY, or a device page at refcount 0)|
 *
 * Cost: one reset + one step of a reused PageTableWalker and a few typed-array reads per
 * page; nothing is allocated unless a violation is found.
 */
import {
  type Mm,
  PAGE_SIZE,
  PageTableWalker,
  PG_BUDDY,
  PG_ZONE_DEVICE,
  type PhysicalMemory,
  PteKind,
  TASK_SIZE,
} from '@hmmkit/mm';
import { RuntimeViolation } from '@hmmkit/runtime';
import { DEVICE_PTE_WRITE, type DeviceAccess } from './constants.js';
import { entryPerms, entryPfn } from './device-page-table.js';

/** What the CPU page table held at the address when the violation was found. */
export interface CpuView {
  /** Entry kind name ('none', 'present', 'swap', 'migration', 'device-private', 'device-exclusive'). */
  kind: string;
  /** pfn (or swap slot) of the entry; -1 when none. */
  pfn: number;
  writable: boolean;
}

/** One stale device access, as recorded in `Device.violations`. */
export interface StaleAccess {
  device: string;
  clientId: string;
  va: number;
  pfn: number;
  access: DeviceAccess;
  /** Why the access is stale. */
  reason: string;
  cpu: CpuView;
}

/**
 * A device access through a stale translation: a RuntimeViolation of kind 'assertion'
 * carrying the device, the address, the pfn and the CPU's view.
 */
export class StaleTranslationError extends RuntimeViolation {
  readonly access: StaleAccess;
  constructor(access: StaleAccess) {
    super(
      'assertion',
      `stale device translation: ${access.device} client ${access.clientId} ${access.access} ` +
        `va 0x${access.va.toString(16)} -> pfn ${access.pfn}: ${access.reason} ` +
        `(CPU: ${access.cpu.kind} pfn ${access.cpu.pfn}${access.cpu.writable ? ' writable' : ''})`,
    );
    this.name = 'StaleTranslationError';
    this.access = access;
  }
}

const KIND_NAMES = ['none', 'present', 'swap', 'migration', 'device-private', 'device-exclusive'];

/** Checks one translation against one Mm; reuses its walker. */
export class StaleChecker {
  readonly #walker: PageTableWalker | undefined;
  /** Address the walker stands just before, when the last check of a DMA run left it there. */
  #next = -1;

  constructor(
    readonly memory: PhysicalMemory,
    readonly mm: Mm | undefined,
  ) {
    this.#walker = mm === undefined ? undefined : new PageTableWalker(mm);
  }

  /**
   * Why the access at page `va` through `pfn` is stale, or undefined when it is consistent.
   * `continued`: nothing has run since the previous check of this DMA (no await), so the
   * walker may step on from the previous page instead of walking down from the top.
   */
  check(va: number, pfn: number, write: boolean, continued: boolean): string | undefined {
    const mem = this.memory;
    if (!mem.validPfn(pfn)) return 'pfn does not exist';
    const flags = mem.flags[pfn]!;
    if (flags & PG_BUDDY) return 'the page is free';
    if (flags & PG_ZONE_DEVICE && mem.refcount[pfn] === 0) return 'the device page is free';
    const w = this.#walker;
    if (w === undefined) return undefined;
    if (!continued || va !== this.#next) w.reset(va, TASK_SIZE);
    w.next();
    this.#next = va + PAGE_SIZE;
    const k = w.kind;
    const mapped =
      (k === PteKind.PRESENT && !w.protnone) ||
      k === PteKind.DEVICE_PRIVATE ||
      k === PteKind.DEVICE_EXCLUSIVE;
    if (!mapped || w.pfn !== pfn) return 'the CPU no longer maps this page at this address';
    if (write && k !== PteKind.DEVICE_EXCLUSIVE && !w.writable)
      return 'the CPU maps this page read-only';
    return undefined;
  }

  /** One line per translation in `entries` ([vpn, entry] pairs) that check() rejects. */
  audit(where: string, entries: Array<[number, number]>): string[] {
    const out: string[] = [];
    for (const [vpn, e] of entries) {
      const va = vpn * PAGE_SIZE;
      const pfn = entryPfn(e);
      const reason = this.check(va, pfn, (entryPerms(e) & DEVICE_PTE_WRITE) !== 0, false);
      if (reason === undefined) continue;
      const cpu = this.cpuView(va);
      out.push(
        `${where} va 0x${va.toString(16)} -> pfn ${pfn}: ${reason} (CPU: ${cpu.kind} pfn ${cpu.pfn})`,
      );
    }
    return out;
  }

  /** The CPU's view at `va`, for a report. */
  cpuView(va: number): CpuView {
    const w = this.#walker;
    if (w === undefined) return { kind: 'no mm', pfn: -1, writable: false };
    this.#next = -1;
    w.reset(va, va + PAGE_SIZE);
    w.next();
    const none = w.kind === PteKind.NONE;
    return {
      kind:
        (KIND_NAMES[w.kind] ?? 'unknown') +
        (w.kind === PteKind.PRESENT && w.protnone ? ' (PROT_NONE)' : ''),
      pfn: none ? -1 : w.pfn,
      writable: !none && w.writable,
    };
  }
}
