import type { Workload } from './workload.js';

/**
 * One contender, wrapped so that each phase's loop runs inside the adapter
 * (monomorphic call sites, no harness dispatch per operation).
 */
export interface Structure {
  readonly name: string;
  /** 'dynamic' peers compete on every column; 'static' builds once; 'baseline' is the naive scan. */
  readonly kind: 'dynamic' | 'static' | 'baseline';
  /** Untimed preparation of the caller's own data (e.g. string ids). */
  prepare?(w: Workload): void;
  /** Inserts ids [from, to) (a static structure is built once, from 0 to n). */
  build(w: Workload, from: number, to: number): void;
  /** Runs queries [from, to) of the query set; returns the total number of hits. */
  query(w: Workload, from: number, to: number): number;
  /** The ids overlapping one query, for cross-checking answers. */
  ids(qs: number, ql: number): number[];
  /** Removes the ids `w.removeOrder[from..to)` (dynamic structures only). */
  remove?(w: Workload, from: number, to: number): void;
  /** Runs mixed ops [from, to); returns the hits of its queries. */
  mixed?(w: Workload, from: number, to: number): number;
}
