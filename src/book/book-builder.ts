// BookBuilder: rebuilds every stream's order book from a dataset's event rows, one row at a time.
//
// Semantics of the rows (docs/dataset-format.md):
// - BookSnapshot rows: Flag.SnapshotBegin on the first clears the book and makes it invalid; each row sets a
//   level; Flag.SnapshotEnd on the last makes the book valid. An empty snapshot is a single row with NaN price
//   and size 0 (Begin|End): the book is valid and empty.
// - BookLevel rows set one level (size 0 deletes it). They are applied only while the book is valid (or a
//   snapshot is being read): between a gap and the next snapshot the book is unknown, so it stays cleared.
// - Gap and Disconnect rows clear the stream's book and make it invalid until its next snapshot.
// - Trades, BestBidOffer and Reconnect rows do not change the book.
// The book is consistent only after a row carrying Flag.MessageEnd; callers that inspect it (crossed-book
// checks, strategies) should do so there.
import { OrderBook } from './order-book.js';
import { EventKind, Flag } from '../data/types.js';
import type { EventBatch } from '../data/reader.js';

const SNAPSHOT = EventKind.BookSnapshot;
const LEVEL = EventKind.BookLevel;
const GAP = EventKind.Gap;
const DISCONNECT = EventKind.Disconnect;
const SNAPSHOT_BEGIN = Flag.SnapshotBegin;
const SNAPSHOT_END = Flag.SnapshotEnd;

/** Per-stream state: 0 = unknown (no snapshot yet, or after a gap), 1 = reading a snapshot, 2 = valid. */
const UNKNOWN = 0;
const IN_SNAPSHOT = 1;
const VALID = 2;

export class BookBuilder {
  readonly books: OrderBook[];
  private readonly state: Uint8Array;

  constructor(streamCount: number) {
    this.books = [];
    for (let s = 0; s < streamCount; s++) this.books.push(new OrderBook());
    this.state = new Uint8Array(streamCount);
  }

  get streamCount(): number {
    return this.books.length;
  }

  /** Apply row `i` of `b` to its stream's book. Rows of streams beyond `streamCount` are ignored. */
  apply(b: EventBatch, i: number): void {
    const kind = b.kind[i]!;
    const s = b.stream[i]!;
    if (s >= this.books.length) return;
    if (kind === LEVEL) {
      if (this.state[s] !== UNKNOWN) this.books[s]!.set(b.side[i]!, b.price[i]!, b.size[i]!);
    } else if (kind === SNAPSHOT) {
      const f = b.flags[i]!;
      const book = this.books[s]!;
      if (f & SNAPSHOT_BEGIN) {
        book.clear();
        this.state[s] = IN_SNAPSHOT;
      }
      if (this.state[s] !== UNKNOWN) {
        const size = b.size[i]!;
        if (size > 0) book.set(b.side[i]!, b.price[i]!, size);
        if (f & SNAPSHOT_END) this.state[s] = VALID;
      }
    } else if (kind === GAP || kind === DISCONNECT) {
      this.books[s]!.clear();
      this.state[s] = UNKNOWN;
    }
  }

  book(stream: number): OrderBook {
    const b = this.books[stream];
    if (!b) throw new Error(`no stream ${stream} (the dataset has ${this.books.length})`);
    return b;
  }

  /** True once a complete snapshot has been applied and no gap or disconnect has happened since. */
  isValid(stream: number): boolean {
    return this.state[stream] === VALID;
  }

  /** Forget every book (all streams invalid). */
  reset(): void {
    for (const b of this.books) b.clear();
    this.state.fill(UNKNOWN);
  }
}
