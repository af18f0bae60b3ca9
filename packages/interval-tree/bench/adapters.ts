/**
 * One adapter per library. Each runs a whole workload loop itself, so the hot call sites stay
 * monomorphic; results are folded into (count, 32-bit checksum of ids) so nothing is optimised
 * away and every library can be checked to report the same results.
 */

import { type IntervalNode, IntervalTree } from '../dist/index.js';
import type { Intervals } from './data.js';
import { FlattenTree, NodeIntervalTree } from './peers.js';
import { StaticIntervalTree } from './static-tree.js';

export interface Result {
  count: number;
  hash: number;
}

export interface Adapter {
  readonly name: string;
  /** False for the static reference: built once, no churn or removal. */
  readonly dynamic: boolean;
  build(d: Intervals, n: number): void;
  query(q: Intervals): Result;
  churn(pick: Int32Array, add: Intervals): void;
  removeAll(order: Int32Array): void;
  size(): number;
}

/** Live entries by position, for the libraries that remove by (low, high, value). */
class Positions {
  start: Float64Array;
  last: Float64Array;
  id: Int32Array;
  constructor(n: number) {
    this.start = new Float64Array(n);
    this.last = new Float64Array(n);
    this.id = new Int32Array(n);
  }
}

export class MmukitForEach implements Adapter {
  name = '@mmukit/interval-tree';
  readonly dynamic = true;
  tree = new IntervalTree<number>();
  nodes: IntervalNode<number>[] = [];
  count = 0;
  hash = 0;
  private readonly visit = (node: IntervalNode<number>): void => {
    this.count++;
    this.hash = (this.hash + node.value) | 0;
  };

  build(d: Intervals, n: number): void {
    const t = this.tree;
    const nodes = this.nodes;
    for (let i = 0; i < n; i++) nodes.push(t.insert(d.start[i]!, d.last[i]!, i));
  }

  query(q: Intervals): Result {
    this.count = 0;
    this.hash = 0;
    const t = this.tree;
    const fn = this.visit;
    for (let i = 0; i < q.start.length; i++) t.forEachOverlap(q.start[i]!, q.last[i]!, fn);
    return { count: this.count, hash: this.hash };
  }

  churn(pick: Int32Array, add: Intervals): void {
    const t = this.tree;
    const nodes = this.nodes;
    const base = nodes.length;
    for (let k = 0; k < pick.length; k++) {
      const i = pick[k]!;
      t.remove(nodes[i]!);
      nodes[i] = t.insert(add.start[k]!, add.last[k]!, base + k);
    }
  }

  removeAll(order: Int32Array): void {
    const t = this.tree;
    const nodes = this.nodes;
    for (let k = 0; k < order.length; k++) t.remove(nodes[order[k]!]!);
  }

  size(): number {
    return this.tree.size;
  }
}

/** Same tree, queried with forEachOverlapValue: endpoints and value, no handle. */
export class MmukitValues extends MmukitForEach {
  override name = '@mmukit/interval-tree (forEachOverlapValue)';
  private readonly visitValue = (_s: number, _l: number, value: number): void => {
    this.count++;
    this.hash = (this.hash + value) | 0;
  };
  override query(q: Intervals): Result {
    this.count = 0;
    this.hash = 0;
    const t = this.tree;
    const fn = this.visitValue;
    for (let i = 0; i < q.start.length; i++) t.forEachOverlapValue(q.start[i]!, q.last[i]!, fn);
    return { count: this.count, hash: this.hash };
  }
}

/** The static implicit tree (static-tree.ts), queried the same way: build only. */
export class StaticRef implements Adapter {
  name = 'static implicit tree (reference)';
  readonly dynamic = false;
  tree: StaticIntervalTree<number> | undefined;
  count = 0;
  hash = 0;
  private readonly visit = (_s: number, _l: number, value: number): void => {
    this.count++;
    this.hash = (this.hash + value) | 0;
  };

  build(d: Intervals, n: number): void {
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = i;
    this.tree = new StaticIntervalTree(d.start, d.last, values, n);
  }

  query(q: Intervals): Result {
    this.count = 0;
    this.hash = 0;
    const t = this.tree!;
    const fn = this.visit;
    for (let i = 0; i < q.start.length; i++) t.forEachOverlap(q.start[i]!, q.last[i]!, fn);
    return { count: this.count, hash: this.hash };
  }

  churn(): void {
    throw new Error('the static tree cannot change');
  }

  removeAll(): void {
    throw new Error('the static tree cannot change');
  }

  size(): number {
    return this.tree?.size ?? 0;
  }
}

/** Same tree, queried with iterFirst/iterNext (the kernel's loop shape). */
export class MmukitIterNext extends MmukitForEach {
  override name = '@mmukit/interval-tree (iterFirst/iterNext)';
  override query(q: Intervals): Result {
    const t = this.tree;
    let count = 0;
    let hash = 0;
    for (let i = 0; i < q.start.length; i++) {
      const s = q.start[i]!;
      const l = q.last[i]!;
      for (let n = t.iterFirst(s, l); n !== undefined; n = t.iterNext(n, s, l)) {
        count++;
        hash = (hash + n.value) | 0;
      }
    }
    return { count, hash };
  }
}

/** Same tree, queried with the overlaps() iterator in for-of. */
export class MmukitOverlaps extends MmukitForEach {
  override name = '@mmukit/interval-tree (overlaps iterator)';
  override query(q: Intervals): Result {
    const t = this.tree;
    let count = 0;
    let hash = 0;
    for (let i = 0; i < q.start.length; i++) {
      for (const n of t.overlaps(q.start[i]!, q.last[i]!)) {
        count++;
        hash = (hash + n.value) | 0;
      }
    }
    return { count, hash };
  }
}

export class Flatten implements Adapter {
  name = '@flatten-js/interval-tree';
  readonly dynamic = true;
  tree = new FlattenTree<number>();
  pos!: Positions;

  build(d: Intervals, n: number): void {
    const t = this.tree;
    this.pos = new Positions(n);
    const p = this.pos;
    for (let i = 0; i < n; i++) {
      t.insert([d.start[i]!, d.last[i]!], i);
      p.start[i] = d.start[i]!;
      p.last[i] = d.last[i]!;
      p.id[i] = i;
    }
  }

  query(q: Intervals): Result {
    const t = this.tree;
    let count = 0;
    let hash = 0;
    for (let i = 0; i < q.start.length; i++) {
      const r = t.search([q.start[i]!, q.last[i]!]);
      for (let j = 0; j < r.length; j++) hash = (hash + r[j]!) | 0;
      count += r.length;
    }
    return { count, hash };
  }

  churn(pick: Int32Array, add: Intervals): void {
    const t = this.tree;
    const p = this.pos;
    const base = p.id.length;
    for (let k = 0; k < pick.length; k++) {
      const i = pick[k]!;
      if (!t.remove([p.start[i]!, p.last[i]!], p.id[i]!)) throw new Error('flatten: remove missed');
      t.insert([add.start[k]!, add.last[k]!], base + k);
      p.start[i] = add.start[k]!;
      p.last[i] = add.last[k]!;
      p.id[i] = base + k;
    }
  }

  removeAll(order: Int32Array): void {
    const t = this.tree;
    const p = this.pos;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (!t.remove([p.start[i]!, p.last[i]!], p.id[i]!)) throw new Error('flatten: remove missed');
    }
  }

  size(): number {
    return this.tree.size;
  }
}

export class NodeIT implements Adapter {
  name = 'node-interval-tree';
  readonly dynamic = true;
  tree = new NodeIntervalTree<number>();
  pos!: Positions;

  build(d: Intervals, n: number): void {
    const t = this.tree;
    this.pos = new Positions(n);
    const p = this.pos;
    for (let i = 0; i < n; i++) {
      t.insert(d.start[i]!, d.last[i]!, i);
      p.start[i] = d.start[i]!;
      p.last[i] = d.last[i]!;
      p.id[i] = i;
    }
  }

  query(q: Intervals): Result {
    const t = this.tree;
    let count = 0;
    let hash = 0;
    for (let i = 0; i < q.start.length; i++) {
      const r = t.search(q.start[i]!, q.last[i]!);
      for (let j = 0; j < r.length; j++) hash = (hash + r[j]!) | 0;
      count += r.length;
    }
    return { count, hash };
  }

  churn(pick: Int32Array, add: Intervals): void {
    const t = this.tree;
    const p = this.pos;
    const base = p.id.length;
    for (let k = 0; k < pick.length; k++) {
      const i = pick[k]!;
      if (!t.remove(p.start[i]!, p.last[i]!, p.id[i]!))
        throw new Error('node-interval-tree: remove missed');
      t.insert(add.start[k]!, add.last[k]!, base + k);
      p.start[i] = add.start[k]!;
      p.last[i] = add.last[k]!;
      p.id[i] = base + k;
    }
  }

  removeAll(order: Int32Array): void {
    const t = this.tree;
    const p = this.pos;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (!t.remove(p.start[i]!, p.last[i]!, p.id[i]!))
        throw new Error('node-interval-tree: remove missed');
    }
  }

  size(): number {
    return this.tree.count;
  }
}
