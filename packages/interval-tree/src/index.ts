export { ConcurrentModificationError, IntervalTreeError, NodeNotInTreeError } from './errors.js';
export type { IntervalNode } from './interval-node.js';
export { IntervalTree } from './interval-tree.js';
