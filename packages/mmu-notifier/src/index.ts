export { KernelError } from '@hmmkit/runtime';
export {
  MMU_NOTIFIER_RANGE_BLOCKABLE,
  MmuNotifierEvent,
  type MmuNotifierRange,
  mmuNotifierRangeBlockable,
  mmuNotifierRangeInit,
} from './event.js';
export { MmuIntervalNotifier } from './interval-notifier.js';
export { MmuNotifier } from './notifier.js';
export type { MmuIntervalNotifierOps, MmuNotifierMm, MmuNotifierOps } from './ops.js';
export { MmuNotifierSubscriptions } from './subscriptions.js';
