// The contract of one `dataset check` concern. inspect.ts reads the events table once and hands every row to
// every checker in file order; each checker keeps only its own per-stream state and, at the end, returns its
// part of the report.
import type { EventBatch } from '../data/reader.js';

export interface Checker<Part> {
  /**
   * Row `i` of `batch`; `row` is its index in the whole table (for examples). Rows whose stream index the
   * manifest does not list are passed too: checkers of per-stream state skip them.
   */
  onRow(batch: EventBatch, i: number, row: number): void;
  /** Called once after the last row. */
  finish(): Part;
}

/** Findings of one checker about one stream, in the order they are reported. */
export interface Findings {
  /** What makes the check fail (exit code 2). */
  errors: string[];
  /** Information only. */
  notes: string[];
}

/** The (empty) findings of each of `n` streams. */
export function emptyFindings(n: number): Findings[] {
  return Array.from({ length: n }, () => ({ errors: [], notes: [] }));
}

/** Event kinds tracked per stream by the per-kind tables (EventKind values are < 16). */
export const TRACKED_KINDS = 16;
