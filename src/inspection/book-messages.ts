// Which book message a row belongs to. Rows of one message share id and prev_id, so a level row starts a new
// message unless its ids repeat those of the stream's previous book row; a snapshot row always does. Both the
// sequence-chain and the crossed-book checkers need this, so it is kept once, updated by the pass before
// they see the row.
import type { EventBatch } from '../data/reader.js';
import { EventKind } from '../data/types.js';

/** The int64 column as pairs of int32 words (little-endian: [lo, hi]), to compare ids without a BigInt per row. */
function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

export class BookMessages {
  // Facts about the current row, set by onRow.
  /** A snapshot row, or a level row that does not continue the previous book message of its stream. */
  startsMessage = false;
  /** The level row has id -1 or prev_id -1 (the exchange gives none). */
  noIds = false;
  /** The stream had a previous message with ids before this row (not reset by a message without ids). */
  hadPrevious = false;
  /** That previous message's id, as int32 words. */
  previousIdLo = 0;
  previousIdHi = 0;
  /** This row's prev_id, as int32 words. */
  prevIdLo = 0;
  prevIdHi = 0;

  private readonly hasLast: Uint8Array;
  private readonly lastLo: Int32Array;
  private readonly lastHi: Int32Array;
  private readonly lastPrevLo: Int32Array;
  private readonly lastPrevHi: Int32Array;
  private batch: EventBatch | null = null;
  private idw: Int32Array = new Int32Array(0);
  private prevw: Int32Array = new Int32Array(0);

  constructor(streams: number) {
    this.hasLast = new Uint8Array(streams);
    this.lastLo = new Int32Array(streams);
    this.lastHi = new Int32Array(streams);
    this.lastPrevLo = new Int32Array(streams);
    this.lastPrevHi = new Int32Array(streams);
  }

  /** Row `i` of `b`, of a stream the manifest lists. */
  onRow(b: EventBatch, i: number): void {
    if (b !== this.batch) {
      this.batch = b;
      this.idw = words(b.id);
      this.prevw = words(b.prevId);
    }
    const s = b.stream[i]!;
    const kind = b.kind[i]!;
    this.startsMessage = false;
    if (kind !== EventKind.BookSnapshot && kind !== EventKind.BookLevel) return;
    const lo = this.idw[2 * i]!;
    const hi = this.idw[2 * i + 1]!;
    const plo = this.prevw[2 * i]!;
    const phi = this.prevw[2 * i + 1]!;
    this.prevIdLo = plo;
    this.prevIdHi = phi;
    this.hadPrevious = this.hasLast[s] === 1;
    this.previousIdLo = this.lastLo[s]!;
    this.previousIdHi = this.lastHi[s]!;
    if (kind === EventKind.BookSnapshot) {
      this.startsMessage = true;
      this.noIds = lo === -1 && hi === -1;
      this.remember(s, !this.noIds, lo, hi, plo, phi);
      return;
    }
    this.noIds = (lo === -1 && hi === -1) || (plo === -1 && phi === -1);
    const sameMessage = this.hadPrevious && lo === this.lastLo[s] && hi === this.lastHi[s] && plo === this.lastPrevLo[s] && phi === this.lastPrevHi[s];
    if (sameMessage) return;
    this.startsMessage = true;
    // Rows without ids cannot be grouped by id: each one is its own message, and the chain restarts after it.
    if (this.noIds) this.hasLast[s] = 0;
    else this.remember(s, true, lo, hi, plo, phi);
  }

  private remember(s: number, has: boolean, lo: number, hi: number, plo: number, phi: number): void {
    this.hasLast[s] = has ? 1 : 0;
    this.lastLo[s] = lo;
    this.lastHi[s] = hi;
    this.lastPrevLo[s] = plo;
    this.lastPrevHi[s] = phi;
  }
}
