/** The peer libraries. node-interval-tree is CommonJS: under Node's ESM loader its default import
 * is `module.exports`, whose `.default` is the class. */
import FlattenTree from '@flatten-js/interval-tree';
import nodeIntervalTreeModule from 'node-interval-tree';

export const NodeIntervalTree = nodeIntervalTreeModule.default;
export { FlattenTree };
