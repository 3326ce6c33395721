// Crossed books: the stream's book is rebuilt (BookBuilder, the same rules as `dataset book`) and checked at
// every message end while it is valid. A crossing is marked when a gap or disconnect marker follows it before
// the stream's next book message; an unmarked one fails the check.
import { BookBuilder } from '../../book/book-builder.js';
import type { EventBatch } from '../../data/reader.js';
import { EventKind, Flag } from '../../data/types.js';
import type { BookMessages } from '../book-messages.js';
import { emptyFindings, type Checker, type Findings } from '../checker.js';
import { isoText, MAX_EXAMPLES, nsText, streamLabel, type DatasetHead } from '../format.js';

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
  private readonly messagesCrossed: Float64Array;
  private readonly episodes: Float64Array;
  private readonly marked: Float64Array;
  private readonly wasCrossed: Uint8Array;
  private readonly pending: Uint8Array;
  private readonly examples: CrossedExample[][];
  private readonly pendingExample: (CrossedExample | null)[];

  constructor(
    private readonly ds: DatasetHead,
    private readonly messages: BookMessages,
  ) {
    const n = (this.n = ds.streams.length);
    this.builder = new BookBuilder(n);
    this.messagesCrossed = new Float64Array(n);
    this.episodes = new Float64Array(n);
    this.marked = new Float64Array(n);
    this.wasCrossed = new Uint8Array(n);
    this.pending = new Uint8Array(n);
    this.examples = Array.from({ length: n }, () => []);
    this.pendingExample = new Array<CrossedExample | null>(n).fill(null);
  }

  onRow(b: EventBatch, i: number, row: number): void {
    const s = b.stream[i]!;
    if (s >= this.n) return;
    const kind = b.kind[i]!;
    if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
      this.resolve(s, true);
      this.wasCrossed[s] = 0;
    } else if (this.messages.startsMessage) {
      this.resolve(s, false);
    }
    this.builder.apply(b, i);
    const isBook = kind === EventKind.BookLevel || kind === EventKind.BookSnapshot;
    if (!isBook || (b.flags[i]! & Flag.MessageEnd) === 0) return;
    const book = this.builder.book(s);
    if (!this.builder.isValid(s) || !book.isCrossed()) {
      this.wasCrossed[s] = 0;
      return;
    }
    this.messagesCrossed[s]!++;
    if (!this.wasCrossed[s]) this.episodes[s]!++;
    this.wasCrossed[s] = 1;
    this.pending[s] = 1;
    if (this.examples[s]!.length < MAX_EXAMPLES) {
      const ex: CrossedExample = {
        row,
        exch_ts_ns: nsText(this.ds, b.exchNs[i]!),
        exch_ts: isoText(this.ds, b.exchNs[i]!),
        best_bid: book.bestBid(),
        best_ask: book.bestAsk(),
        marked: false,
      };
      this.examples[s]!.push(ex);
      this.pendingExample[s] = ex;
    }
  }

  /** A marker (marked) or the next book message (unmarked) settles a pending crossing. */
  private resolve(s: number, byMarker: boolean): void {
    if (!this.pending[s]) return;
    this.pending[s] = 0;
    if (byMarker) this.marked[s]!++;
    const ex = this.pendingExample[s];
    if (ex) {
      ex.marked = byMarker;
      this.pendingExample[s] = null;
    }
  }

  finish(): CrossedBookReport {
    const findings = emptyFindings(this.n);
    const crossed = this.ds.streams.map((st, s): CrossedCheck => {
      this.resolve(s, false);
      const marked = this.marked[s]!;
      const unmarked = this.messagesCrossed[s]! - marked;
      const label = streamLabel(st);
      if (unmarked > 0) findings[s]!.errors.push(`${label}: book crossed after ${unmarked} message(s) with no gap marker after them`);
      if (marked > 0) findings[s]!.notes.push(`${label}: book crossed after ${marked} message(s) followed by a gap marker`);
      return { messages: this.messagesCrossed[s]!, episodes: this.episodes[s]!, marked, unmarked, examples: this.examples[s]! };
    });
    return { crossed, findings };
  }
}
