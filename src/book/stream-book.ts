// StreamBook: one stream's order book and the rules that apply the dataset's rows to it — the one state
// machine used by the replay (both timelines), BookBuilder (dataset check/book, the exchange simulator)
// and the tests.
//
// The rows' meaning is in docs/dataset-format.md. States:
//   Unknown     no snapshot yet, or a gap/disconnect since the last one: the book is empty and unknown.
//   InSnapshot  a snapshot's SnapshotBegin row was read and its SnapshotEnd row not yet.
//   Valid       a complete snapshot was read and nothing broke the chain since.
// Rules:
// - A BookSnapshot row with SnapshotBegin clears the book and starts a snapshot (from any state).
// - Other snapshot rows set their level (size > 0; the empty snapshot's NaN row sets nothing) unless the book
//   is Unknown; SnapshotEnd then makes the book Valid. After a gap inside a snapshot the book stays Unknown
//   until the next SnapshotBegin: the exchanges define a gap as "the book is unknown until the next complete
//   snapshot", and the rest of a broken snapshot is not one.
// - A BookLevel row sets one level (size 0 deletes it) only while the book is Valid. Between a snapshot's
//   Begin and End the book is not known yet, and a snapshot replaces the book: a diff in the middle of one is
//   not applied (the exchanges apply diffs to a complete snapshot, never inside one).
// - Gap and Disconnect rows clear the book: Unknown (except a Gap flagged TradeGap: only trades were lost).
// - Trade, BestBidOffer and Reconnect rows change nothing.
// The book is consistent only after a row carrying Flag.MessageEnd.
//
// Hot path: apply() takes the columns and a row index (no row objects, no doubles as arguments, which V8
// boxes when it does not inline a call) and returns a small integer; a level's previous size is left in
// `lastPrev`.
import { OrderBook } from './order-book.js';
import { EventKind, Flag } from '../data/types.js';

/** The columns a StreamBook reads: both a dataset's EventBatch and the replay's MarketChunk have them. */
export interface BookRows {
  kind: Uint8Array;
  flags: Uint16Array;
  side: Int8Array;
  price: Float64Array;
  size: Float64Array;
}

export const BookState = {
  Unknown: 0,
  InSnapshot: 1,
  Valid: 2,
} as const;

/** What apply() did with a row. */
export const Applied = {
  /** Nothing: not a book row, or a book row the rules discard. */
  Nothing: 0,
  /** A BookLevel row set a level; `lastPrev` holds the level's previous size. */
  Level: 1,
  /** A snapshot row set its level (or nothing, for the empty snapshot) and the snapshot goes on. */
  SnapshotRow: 2,
  /** A snapshot row ended the snapshot: the book was replaced and is valid. */
  SnapshotEnd: 3,
  /** A gap or disconnect cleared the book. */
  Cleared: 4,
} as const;

const LEVEL = EventKind.BookLevel;
const SNAPSHOT = EventKind.BookSnapshot;
const GAP = EventKind.Gap;
const DISCONNECT = EventKind.Disconnect;
const SNAPSHOT_BEGIN = Flag.SnapshotBegin;
const SNAPSHOT_END = Flag.SnapshotEnd;
const UNKNOWN = BookState.Unknown;
const IN_SNAPSHOT = BookState.InSnapshot;
const VALID = BookState.Valid;
const NOTHING = Applied.Nothing;
const LEVEL_SET = Applied.Level;
const SNAPSHOT_ROW = Applied.SnapshotRow;
const SNAPSHOT_DONE = Applied.SnapshotEnd;
const CLEARED = Applied.Cleared;

export class StreamBook {
  readonly book = new OrderBook();
  /** One of BookState. */
  state: number = UNKNOWN;
  /** The level's size before the last row that returned Applied.Level. */
  lastPrev = 0;

  get valid(): boolean {
    return this.state === VALID;
  }

  /** Applies row `i` of `rows`; returns one of Applied. */
  apply(rows: BookRows, i: number): number {
    const kind = rows.kind[i]!;
    if (kind === LEVEL) {
      if (this.state !== VALID) return NOTHING;
      const side = rows.side[i]! > 0 ? this.book.bids : this.book.asks;
      side.setAt(rows.price, rows.size, i);
      this.lastPrev = side.lastPrev;
      return LEVEL_SET;
    }
    if (kind === SNAPSHOT) return this.snapshotRow(rows, i);
    if (kind === DISCONNECT || (kind === GAP && (rows.flags[i]! & Flag.TradeGap) === 0)) {
      this.reset();
      return CLEARED;
    }
    return NOTHING;
  }

  private snapshotRow(rows: BookRows, i: number): number {
    const flags = rows.flags[i]!;
    if (flags & SNAPSHOT_BEGIN) {
      this.book.clear();
      this.state = IN_SNAPSHOT;
    } else if (this.state === UNKNOWN) return NOTHING;
    if (rows.size[i]! > 0) (rows.side[i]! > 0 ? this.book.bids : this.book.asks).setAt(rows.price, rows.size, i);
    if (flags & SNAPSHOT_END) {
      this.state = VALID;
      return SNAPSHOT_DONE;
    }
    return SNAPSHOT_ROW;
  }

  /** Forget the book: empty and unknown. */
  reset(): void {
    this.book.clear();
    this.state = UNKNOWN;
  }
}
