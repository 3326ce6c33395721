// Findings that a marker can excuse. A crossed book or a sequence break is "marked" (the importer noticed it)
// when a gap or disconnect marker follows it before the stream's next book message, and unmarked when the next
// book message comes first. The crossed-book and sequence checkers both settle their findings this way.
import { MAX_EXAMPLES } from '../format.js';

export class MarkerSettledFindings<E> {
  /** Findings per stream. */
  readonly found: Float64Array;
  /** Of those, the ones a marker followed. */
  readonly marked: Float64Array;
  /** The first MAX_EXAMPLES findings of each stream. */
  readonly examples: E[][];
  private readonly pending: Uint8Array;
  private readonly pendingExample: (E | null)[];

  /** `settle` writes into an example whether a marker followed it. */
  constructor(
    streams: number,
    private readonly settle: (example: E, byMarker: boolean) => void,
  ) {
    this.found = new Float64Array(streams);
    this.marked = new Float64Array(streams);
    this.pending = new Uint8Array(streams);
    this.examples = Array.from({ length: streams }, () => []);
    this.pendingExample = new Array<E | null>(streams).fill(null);
  }

  /** A finding on stream `s`, unsettled until its next marker or book message; `example` is called only while
   *  the stream has fewer than MAX_EXAMPLES. */
  add(s: number, example: () => E): void {
    this.found[s]!++;
    this.pending[s] = 1;
    if (this.examples[s]!.length >= MAX_EXAMPLES) return;
    const ex = example();
    this.examples[s]!.push(ex);
    this.pendingExample[s] = ex;
  }

  /** A marker (byMarker) or the stream's next book message settles its pending finding. */
  resolve(s: number, byMarker: boolean): void {
    if (!this.pending[s]) return;
    this.pending[s] = 0;
    if (byMarker) this.marked[s]!++;
    const ex = this.pendingExample[s];
    if (ex) {
      this.settle(ex, byMarker);
      this.pendingExample[s] = null;
    }
  }
}
