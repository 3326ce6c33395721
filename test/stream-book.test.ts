// The one book state machine (src/book/stream-book.ts), rule by rule on hand-made rows.
import { describe, expect, it } from 'vitest';
import { Applied, BookState, StreamBook, type BookRows } from '../src/book/stream-book.js';
import { EventKind, Flag } from '../src/data/types.js';

const { BookSnapshot: S, BookLevel: L, Gap, Disconnect, Trade, BestBidOffer: BBO } = EventKind;
const { SnapshotBegin: SB, SnapshotEnd: SE, MessageEnd: ME } = Flag;
type Row = [kind: number, side: number, price: number, size: number, flags: number];

function columns(rows: Row[]): BookRows {
  return {
    kind: Uint8Array.from(rows, (r) => r[0]),
    side: Int8Array.from(rows, (r) => r[1]),
    price: Float64Array.from(rows, (r) => r[2]),
    size: Float64Array.from(rows, (r) => r[3]),
    flags: Uint16Array.from(rows, (r) => r[4]),
  };
}

/** Applies every row; returns what apply() said for each, and the book after each as text. */
function run(rows: Row[], sb = new StreamBook()): { applied: number[]; after: string[]; prev: number[]; sb: StreamBook } {
  const c = columns(rows);
  const applied: number[] = [];
  const after: string[] = [];
  const prev: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    applied.push(sb.apply(c, i));
    prev.push(sb.lastPrev);
    after.push(`${['unknown', 'in-snapshot', 'valid'][sb.state]} ${sb.book.bids.levels().join('|')} / ${sb.book.asks.levels().join('|')}`);
  }
  return { applied, after, prev, sb };
}

describe('StreamBook', () => {
  it('a snapshot replaces the book; level rows then set and delete levels and report the previous size', () => {
    const r = run([
      [S, 1, 100, 2, SB],
      [S, 1, 99, 3, 0],
      [S, -1, 101, 1, SE | ME],
      [L, 1, 100, 5, ME], // 2 -> 5
      [L, -1, 101, 0, 0], // delete
      [L, -1, 102, 4, ME], // new level
      [L, 1, 98.5, 0, ME], // deleting a level the book does not have
    ]);
    expect(r.applied).toEqual([Applied.SnapshotRow, Applied.SnapshotRow, Applied.SnapshotEnd, Applied.Level, Applied.Level, Applied.Level, Applied.Level]);
    expect(r.prev.slice(3)).toEqual([2, 1, 0, 0]);
    expect(r.after).toEqual([
      'in-snapshot 100,2 / ',
      'in-snapshot 100,2|99,3 / ',
      'valid 100,2|99,3 / 101,1',
      'valid 100,5|99,3 / 101,1',
      'valid 100,5|99,3 / ',
      'valid 100,5|99,3 / 102,4',
      'valid 100,5|99,3 / 102,4',
    ]);
  });

  it('a level row before any snapshot, or after a gap, is discarded: the book stays unknown and empty', () => {
    const r = run([
      [L, 1, 100, 1, ME],
      [S, 1, 100, 2, SB],
      [S, -1, 101, 1, SE | ME],
      [Gap, 0, NaN, 1, ME],
      [L, 1, 99, 7, ME],
    ]);
    expect(r.applied).toEqual([Applied.Nothing, Applied.SnapshotRow, Applied.SnapshotEnd, Applied.Cleared, Applied.Nothing]);
    expect(r.after[0]).toBe('unknown  / ');
    expect(r.after[4]).toBe('unknown  / ');
    expect(r.sb.valid).toBe(false);
  });

  it('a gap inside a snapshot: the rest of that snapshot is discarded and the book stays unknown until the next SnapshotBegin', () => {
    const r = run([
      [S, 1, 100, 1, SB],
      [S, 1, 99, 1, 0],
      [Gap, 0, NaN, 1, ME],
      [S, 1, 98, 1, 0],
      [S, -1, 101, 1, SE | ME],
      [L, 1, 97, 1, ME],
      [S, 1, 96, 2, SB],
      [S, -1, 97, 3, SE | ME],
    ]);
    expect(r.applied).toEqual([
      Applied.SnapshotRow,
      Applied.SnapshotRow,
      Applied.Cleared,
      Applied.Nothing,
      Applied.Nothing,
      Applied.Nothing,
      Applied.SnapshotRow,
      Applied.SnapshotEnd,
    ]);
    // Not "valid 98 / 101": that would be a book made of half a snapshot.
    expect(r.after[4]).toBe('unknown  / ');
    expect(r.after[7]).toBe('valid 96,2 / 97,3');
  });

  it('a disconnect inside a snapshot does the same', () => {
    const r = run([
      [S, 1, 100, 1, SB],
      [Disconnect, 0, NaN, 0, ME],
      [S, -1, 101, 1, SE | ME],
    ]);
    expect(r.applied).toEqual([Applied.SnapshotRow, Applied.Cleared, Applied.Nothing]);
    expect(r.after[2]).toBe('unknown  / ');
  });

  it('a level row between a snapshot’s Begin and End is discarded: the snapshot alone makes the book', () => {
    const r = run([
      [S, 1, 99, 1, SB],
      [L, 1, 99.5, 2, ME],
      [S, -1, 101, 1, SE | ME],
    ]);
    expect(r.applied).toEqual([Applied.SnapshotRow, Applied.Nothing, Applied.SnapshotEnd]);
    expect(r.after[2]).toBe('valid 99,1 / 101,1');
  });

  it('a SnapshotBegin starts over, even inside another snapshot or on a valid book', () => {
    const r = run([
      [S, 1, 100, 1, SB | SE | ME],
      [S, 1, 90, 1, SB],
      [S, 1, 80, 1, SB],
      [S, -1, 81, 2, SE | ME],
    ]);
    expect(r.after).toEqual(['valid 100,1 / ', 'in-snapshot 90,1 / ', 'in-snapshot 80,1 / ', 'valid 80,1 / 81,2']);
  });

  it('the empty snapshot (one row, NaN price, size 0, Begin and End) is a valid empty book', () => {
    const r = run([
      [S, 1, 100, 1, SB | SE | ME],
      [S, 0, NaN, 0, SB | SE | ME],
    ]);
    expect(r.applied).toEqual([Applied.SnapshotEnd, Applied.SnapshotEnd]);
    expect(r.after[1]).toBe('valid  / ');
    expect(r.sb.valid).toBe(true);
  });

  it('trades and BBO rows change nothing; reset() forgets the book', () => {
    const r = run([
      [S, 1, 100, 1, SB | SE | ME],
      [Trade, 1, 100, 1, ME],
      [BBO, 1, 100, 9, 0],
    ]);
    expect(r.applied).toEqual([Applied.SnapshotEnd, Applied.Nothing, Applied.Nothing]);
    expect(r.after[2]).toBe('valid 100,1 / ');
    r.sb.reset();
    expect(r.sb.state).toBe(BookState.Unknown);
    expect(r.sb.book.bids.count).toBe(0);
  });
});
