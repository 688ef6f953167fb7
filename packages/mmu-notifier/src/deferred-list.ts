import type { MmuIntervalNotifier } from './interval-notifier.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

// subscriptions->deferred_list: an hlist (add at the head), so entries are applied newest
// first, as the kernel's hlist_for_each_entry_safe() does. Caller holds `s.lock`.

/** hlist_add_head(&sub->deferred_item, &s->deferred_list) */
export function deferredAdd(s: MmuNotifierSubscriptions, sub: MmuIntervalNotifier): void {
  const head = s.deferredHead;
  sub.deferredPrev = undefined;
  sub.deferredNext = head;
  if (head) head.deferredPrev = sub;
  s.deferredHead = sub;
}

/** hlist_del(&sub->deferred_item) */
export function deferredDel(s: MmuNotifierSubscriptions, sub: MmuIntervalNotifier): void {
  const { deferredPrev: prev, deferredNext: next } = sub;
  if (prev) prev.deferredNext = next;
  else s.deferredHead = next;
  if (next) next.deferredPrev = prev;
  sub.deferredNext = undefined;
  sub.deferredPrev = undefined;
}

/**
 * Applies every deferred insert (never in the tree) and remove (in the tree), emptying the
 * list. Runs only from the last invalidate end, once the sequence is even again.
 */
export function deferredApply(s: MmuNotifierSubscriptions): void {
  let sub = s.deferredHead;
  while (sub) {
    const next = sub.deferredNext;
    if (sub.node === undefined) {
      sub.node = s.itree.insert(sub.start, sub.last, sub);
    } else {
      s.itree.remove(sub.node);
      sub.node = undefined;
    }
    sub.deferredNext = undefined;
    sub.deferredPrev = undefined;
    sub = next;
  }
  s.deferredHead = undefined;
}
