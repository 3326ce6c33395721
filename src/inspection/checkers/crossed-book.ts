// Crossed books: the stream's book is rebuilt (BookBuilder, the same rules as `dataset book`) and checked at
// every message end while it is valid. A crossing is marked when a gap or disconnect marker follows it before
// the stream's next book message; an unmarked one fails the check.
import { BookBuilder } from '../../book/book-builder.js';
import type { EventBatch } from '../../data/reader.js';
import { EventKind, Flag } from '../../data/types.js';
import type { BookMessages } from '../book-messages.js';
import { emptyFindings, type Checker, type Findings } from '../checker.js';
import { isoText, nsText, streamLabel, type DatasetHead } from '../format.js';
import { MarkerSettledFindings } from './marker-settled.js';

export interface CrossedExample {
  row: number;
  exch_ts_ns: string;
  exch_ts: string;
  best_bid: number;
  best_ask: number;
  /** A gap or disconnect marker followed before the stream's next book message. */
  marked: boolean;
}

export interface CrossedCheck {
  /** Book messages after which the (valid) book was crossed. */
  messages: number;
  /** Runs of consecutive crossed messages. */
  episodes: number;
  /** Crossed messages followed by a gap or disconnect marker (the importer noticed). */
  marked: number;
  unmarked: number;
  examples: CrossedExample[];
}

export interface CrossedBookReport {
  crossed: CrossedCheck[];
  findings: Findings[];
}

export class CrossedBookChecker implements Checker<CrossedBookReport> {
  private readonly n: number;
  private readonly builder: BookBuilder;
  /** Crossed messages, settled by a marker or the next book message. */
  private readonly crossings: MarkerSettledFindings<CrossedExample>;
  private readonly episodes: Float64Array;
  private readonly wasCrossed: Uint8Array;

  constructor(
    private readonly ds: DatasetHead,
    private readonly messages: BookMessages,
  ) {
    const n = (this.n = ds.streams.length);
    this.builder = new BookBuilder(n);
    this.crossings = new MarkerSettledFindings<CrossedExample>(n, (ex, byMarker) => (ex.marked = byMarker));
    this.episodes = new Float64Array(n);
    this.wasCrossed = new Uint8Array(n);
  }

  onRow(b: EventBatch, i: number, row: number): void {
    const s = b.stream[i]!;
    if (s >= this.n) return;
    const kind = b.kind[i]!;
    if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
      this.crossings.resolve(s, true);
      this.wasCrossed[s] = 0;
    } else if (this.messages.startsMessage) {
      this.crossings.resolve(s, false);
    }
    this.builder.apply(b, i);
    const isBook = kind === EventKind.BookLevel || kind === EventKind.BookSnapshot;
    if (!isBook || (b.flags[i]! & Flag.MessageEnd) === 0) return;
    const book = this.builder.book(s);
    if (!this.builder.isValid(s) || !book.isCrossed()) {
      this.wasCrossed[s] = 0;
      return;
    }
    if (!this.wasCrossed[s]) this.episodes[s]!++;
    this.wasCrossed[s] = 1;
    this.crossings.add(s, (): CrossedExample => ({
      row,
      exch_ts_ns: nsText(this.ds, b.exchNs[i]!),
      exch_ts: isoText(this.ds, b.exchNs[i]!),
      best_bid: book.bestBid(),
      best_ask: book.bestAsk(),
      marked: false,
    }));
  }

  finish(): CrossedBookReport {
    const findings = emptyFindings(this.n);
    const crossed = this.ds.streams.map((st, s): CrossedCheck => {
      this.crossings.resolve(s, false);
      const marked = this.crossings.marked[s]!;
      const unmarked = this.crossings.found[s]! - marked;
      const label = streamLabel(st);
      if (unmarked > 0) findings[s]!.errors.push(`${label}: book crossed after ${unmarked} message(s) with no gap marker after them`);
      if (marked > 0) findings[s]!.notes.push(`${label}: book crossed after ${marked} message(s) followed by a gap marker`);
      return { messages: this.crossings.found[s]!, episodes: this.episodes[s]!, marked, unmarked, examples: this.crossings.examples[s]! };
    });
    return { crossed, findings };
  }
}
