export type { IntervalNode } from './interval-node.js';
export { IntervalTree } from './interval-tree.js';
