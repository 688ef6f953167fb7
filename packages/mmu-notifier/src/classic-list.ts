import type { MmuNotifier } from './notifier.js';
import type { MmuNotifierSubscriptions } from './subscriptions.js';

// subscriptions->list, an RCU hlist: writers hold `s.lock`; readers walk it inside an SRCU
// read section without the lock. An unlinked entry keeps `hnext`, so a reader standing on it
// walks on (hlist_del_init_rcu()); it is freed only after a grace period.

/** hlist_add_head_rcu(): newest first. */
export function hlistAddHead(s: MmuNotifierSubscriptions, sub: MmuNotifier): void {
  const head = s.listHead;
  sub.hprev = undefined;
  sub.hnext = head;
  if (head) head.hprev = sub;
  s.listHead = sub;
  sub.hashed = true;
}

/** hlist_del_init_rcu(): unhashed afterwards; `hnext` left for concurrent walkers. */
export function hlistDelInit(s: MmuNotifierSubscriptions, sub: MmuNotifier): void {
  if (!sub.hashed) return;
  const { hprev: prev, hnext: next } = sub;
  if (prev) prev.hnext = next;
  else s.listHead = next;
  if (next) next.hprev = prev;
  sub.hprev = undefined;
  sub.hashed = false;
}
