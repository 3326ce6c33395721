// BookBuilder: rebuilds every stream's order book from a dataset's event rows, one row at a time, each
// stream by the one book state machine (StreamBook; the rules are in stream-book.ts). Rows of streams beyond
// `streamCount` are ignored. The book is consistent only after a row carrying Flag.MessageEnd; callers that
// inspect it (crossed-book checks, strategies) should do so there.
import type { OrderBook } from './order-book.js';
import { StreamBook } from './stream-book.js';
import type { EventBatch } from '../data/reader.js';

export class BookBuilder {
  readonly streams: StreamBook[];
  /** Each stream's book (the same objects as streams[s].book). */
  readonly books: OrderBook[];

  constructor(streamCount: number) {
    this.streams = [];
    for (let s = 0; s < streamCount; s++) this.streams.push(new StreamBook());
    this.books = this.streams.map((s) => s.book);
  }

  get streamCount(): number {
    return this.streams.length;
  }

  /** Apply row `i` of `b` to its stream's book; returns what StreamBook.apply did (Applied). */
  apply(b: EventBatch, i: number): number {
    const s = b.stream[i]!;
    if (s >= this.streams.length) return 0;
    return this.streams[s]!.apply(b, i);
  }

  book(stream: number): OrderBook {
    const b = this.books[stream];
    if (!b) throw new Error(`no stream ${stream} (the dataset has ${this.books.length})`);
    return b;
  }

  /** True once a complete snapshot has been applied and no gap or disconnect has happened since. */
  isValid(stream: number): boolean {
    return this.streams[stream]?.valid === true;
  }

  /** Forget every book (all streams invalid). */
  reset(): void {
    for (const s of this.streams) s.reset();
  }
}
