import type { MmuNotifierSubscriptions } from './subscriptions.js';

// The accessed-bit and secondary-TLB dispatchers: every classic subscriber, newest first,
// inside an SRCU read section. Called under the page-table lock: the callbacks never sleep.

/** __mmu_notifier_clear_flush_young(): OR of every answer. */
export function classicClearFlushYoung(
  s: MmuNotifierSubscriptions,
  start: number,
  end: number,
): number {
  const idx = s.srcu.readLock();
  let young = 0;
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      const fn = sub.ops.clearFlushYoung;
      if (fn) young |= fn.call(sub.ops, sub, s.mm, start, end);
    }
  } finally {
    s.srcu.readUnlock(idx);
  }
  return young;
}

/** __mmu_notifier_clear_young(): OR of every answer. */
export function classicClearYoung(s: MmuNotifierSubscriptions, start: number, end: number): number {
  const idx = s.srcu.readLock();
  let young = 0;
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      const fn = sub.ops.clearYoung;
      if (fn) young |= fn.call(sub.ops, sub, s.mm, start, end);
    }
  } finally {
    s.srcu.readUnlock(idx);
  }
  return young;
}

/** __mmu_notifier_test_young(): the first non-zero answer stops the walk. */
export function classicTestYoung(s: MmuNotifierSubscriptions, address: number): number {
  const idx = s.srcu.readLock();
  let young = 0;
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      const fn = sub.ops.testYoung;
      if (!fn) continue;
      young = fn.call(sub.ops, sub, s.mm, address);
      if (young) break;
    }
  } finally {
    s.srcu.readUnlock(idx);
  }
  return young;
}

/** __mmu_notifier_arch_invalidate_secondary_tlbs() */
export function classicArchInvalidateSecondaryTlbs(
  s: MmuNotifierSubscriptions,
  start: number,
  end: number,
): void {
  const idx = s.srcu.readLock();
  try {
    for (let sub = s.listHead; sub; sub = sub.hnext) {
      sub.ops.archInvalidateSecondaryTlbs?.call(sub.ops, sub, s.mm, start, end);
    }
  } finally {
    s.srcu.readUnlock(idx);
  }
}
