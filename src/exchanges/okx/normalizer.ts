// OKX v5 public streams (one normalizer per connection) to normalized events: books (and the tick-by-tick
// books-l2-tbt / books50-l2-tbt, same format) snapshot/update → book rows, trades → trades.
//
// Sync rules (docs/cryptofeed-import.md): where seqId/prevSeqId exist an update must continue the
// previous seqId (keep-alives repeat it; seqId < prevSeqId is an exchange reset and is accepted).
// After every snapshot and update the CRC32 checksum of the rebuilt book is compared with OKX's; a
// mismatch writes a Gap row and the book stays invalid until the next snapshot. A checksum of 0 (OKX
// stopped computing them in June 2026) or none is skipped.
import { NS_PER_MS } from '../../data/time.js';
import { EventKind, Flag, GAP_REASON_NAMES, GapReason, type MarketType } from '../../data/types.js';
import { markReconnect, type EventSink, type InputPlace, type ProblemLog } from '../../data/sink.js';
import { OkxBook } from './book.js';
import { okxChecksum } from './checksum.js';
import { okxMarket } from './instruments.js';
import { isObject, parseBookEntries, parseTrades, type Json, type OkxBookEntry, type OkxTrade } from './messages.js';
import type { Normalizer } from '../kit/normalizer.js';
import { frameObject, numericTradeId, shown } from '../kit/json.js';

const BOOK_CHANNELS = new Set(['books', 'books-l2-tbt', 'books50-l2-tbt']);
const TRADE_CHANNELS = new Set(['trades', 'trades-all']);
/** Channels that carry nothing the dataset models: kept in the raw table only, without a problem. */
const IGNORED_CHANNELS = new Set([
  'tickers', 'books5', 'bbo-tbt', 'mark-price', 'index-tickers', 'funding-rate', 'open-interest', 'price-limit',
  'estimated-price', 'liquidation-orders', 'opt-summary', 'status', 'instruments', 'call-auction-details',
]);


type SyncState = 'none' | 'synced' | 'broken';

interface BookState {
  stream: number;
  book: OkxBook;
  state: SyncState;
  lastSeqId: number | null;
}

const msTextToNs = (ms: string): bigint => BigInt(ms) * NS_PER_MS;
const idOrNone = (v: number | null): bigint => (v === null ? -1n : BigInt(v));

export class OkxNormalizer implements Normalizer {
  readonly exchange = 'okx' as const;
  /** Gap rows written, by reason name. */
  readonly gaps: Record<string, number> = {};
  /** Frames not written as events because a field is not what the exchange sends (kept raw by the caller). */
  invalidFrames = 0;
  /** Book checksums compared: equal, different, or not computable (0 or absent). */
  readonly checksums = { verified: 0, failed: 0, skipped: 0 };
  private readonly streams = new Map<string, number | null>();
  private readonly books = new Map<string, BookState>();

  constructor(
    private readonly sink: EventSink,
    private readonly problems: ProblemLog,
  ) {}

  /** The connection was re-established: every book needs a new snapshot. */
  reset(localTs: bigint): void {
    markReconnect(this.sink, [...this.books.values()].map((b) => b.stream), localTs);
    for (const b of this.books.values()) {
      b.state = 'none';
      b.book.clear();
      b.lastSeqId = null;
    }
  }

  /** One frame as received: its text, or the JSON already parsed from it. */
  onMessage(localTs: bigint, frame: unknown, place: InputPlace): void {
    if (frame === 'pong') return; // the reply to the client's text "ping"
    const msg = frameObject(frame, place, this.problems);
    if (msg === null) {
      this.invalidFrames++;
      return;
    }
    if (msg.event !== undefined) {
      if (msg.event === 'error') this.problems.add('exchange_error', place, `OKX error ${shown(msg.code)}: ${typeof msg.msg === 'string' ? msg.msg.slice(0, 200) : shown(msg.msg)}`);
      return; // subscribe acks, notices
    }
    const arg = msg.arg;
    if (!isObject(arg) || typeof arg.channel !== 'string') {
      this.reject(place, `field "arg.channel" must be a string, got ${shown(isObject(arg) ? arg.channel : arg)}`);
      return;
    }
    const channel = arg.channel;
    if (BOOK_CHANNELS.has(channel) || TRADE_CHANNELS.has(channel)) {
      if (typeof arg.instId !== 'string') {
        this.reject(place, `field "arg.instId" must be a string, got ${shown(arg.instId)}`);
        return;
      }
      if (BOOK_CHANNELS.has(channel)) this.onBookMessage(localTs, msg, arg.instId, place);
      else this.onTradeMessage(localTs, msg, arg.instId, place);
    } else if (!IGNORED_CHANNELS.has(channel) && !channel.startsWith('candle')) {
      this.problems.add('unknown_topic', place, `unknown channel ${shown(channel)}`);
    }
  }

  /** A frame (or part of one) with a field the exchange does not send: counted, logged, never written. */
  private reject(place: InputPlace, message: string): void {
    this.invalidFrames++;
    this.problems.add('bad_field', place, message);
  }

  private stream(instId: string, place: InputPlace): number | null {
    let s = this.streams.get(instId);
    if (s === undefined) {
      const market: MarketType | null = okxMarket(instId);
      if (market === null) this.problems.add('unknown_instrument', place, `instId ${shown(instId)} is not spot, swap, dated future or option`);
      s = market === null ? null : this.sink.stream({ exchange: this.exchange, market, symbol: instId });
      this.streams.set(instId, s);
    }
    return s;
  }

  private onBookMessage(localTs: bigint, msg: Json, instId: string, place: InputPlace): void {
    const action = msg.action;
    if (action !== 'snapshot' && action !== 'update') {
      this.reject(place, `field "action" must be "snapshot" or "update", got ${shown(action)}`);
      return;
    }
    let entries: OkxBookEntry[];
    try {
      entries = parseBookEntries(msg, instId);
    } catch (e) {
      this.reject(place, `books ${instId}: ${(e as Error).message}`);
      // The update it held is lost: the book is unknown until the next snapshot.
      const b = this.books.get(instId);
      if (b?.state === 'synced') this.gap(b, localTs, localTs, GapReason.BadInput, -1n, idOrNone(b.lastSeqId));
      return;
    }
    const stream = this.stream(instId, place);
    if (stream === null) return;
    let b = this.books.get(instId);
    if (b === undefined) {
      b = { stream, book: new OkxBook(), state: 'none', lastSeqId: null };
      this.books.set(instId, b);
    }
    for (const e of entries) {
      if (action === 'snapshot') this.onSnapshot(localTs, b, e);
      else this.onUpdate(localTs, b, e);
    }
  }

  private onSnapshot(localTs: bigint, b: BookState, e: OkxBookEntry): void {
    const exchTs = msTextToNs(e.exchMs);
    const id = idOrNone(e.seqId);
    b.book.clear();
    for (const lv of e.bids) b.book.bids.set(lv.priceText, lv.sizeText, lv.price, lv.size);
    for (const lv of e.asks) b.book.asks.set(lv.priceText, lv.sizeText, lv.price, lv.size);
    const n = e.bids.length + e.asks.length;
    if (n === 0) {
      this.sink.event(b.stream, localTs, exchTs, EventKind.BookSnapshot, 0, NaN, 0, id, -1n, Flag.SnapshotBegin | Flag.SnapshotEnd | Flag.MessageEnd);
    } else {
      let i = 0;
      for (const [side, lvls] of [[1, e.bids], [-1, e.asks]] as const) {
        for (const lv of lvls) {
          let flags = i === 0 ? Flag.SnapshotBegin : 0;
          if (++i === n) flags |= Flag.SnapshotEnd | Flag.MessageEnd;
          this.sink.event(b.stream, localTs, exchTs, EventKind.BookSnapshot, side, lv.price, lv.size, id, -1n, flags);
        }
      }
    }
    b.state = 'synced';
    b.lastSeqId = e.seqId;
    this.verify(localTs, exchTs, b, e);
  }

  private onUpdate(localTs: bigint, b: BookState, e: OkxBookEntry): void {
    if (b.state === 'broken') return;
    const exchTs = msTextToNs(e.exchMs);
    const id = idOrNone(e.seqId);
    const prev = idOrNone(e.prevSeqId);
    if (b.state === 'none') {
      this.gap(b, localTs, exchTs, GapReason.NoSnapshot, id, prev);
      return;
    }
    if (e.seqId !== null && e.prevSeqId !== null && b.lastSeqId !== null) {
      // seqId below prevSeqId: OKX restarted the sequence after maintenance; the update still applies.
      const reset = e.seqId < e.prevSeqId;
      if (!reset && e.prevSeqId !== b.lastSeqId) {
        this.gap(b, localTs, exchTs, GapReason.Sequence, id, BigInt(b.lastSeqId));
        return;
      }
    }
    const n = e.bids.length + e.asks.length;
    let i = 0;
    for (const [side, lvls] of [[1, e.bids], [-1, e.asks]] as const) {
      const bookSide = side === 1 ? b.book.bids : b.book.asks;
      for (const lv of lvls) {
        bookSide.set(lv.priceText, lv.sizeText, lv.price, lv.size);
        const flags = ++i === n ? Flag.MessageEnd : 0;
        this.sink.event(b.stream, localTs, exchTs, EventKind.BookLevel, side, lv.price, lv.size, id, prev, flags);
      }
    }
    if (e.seqId !== null) b.lastSeqId = e.seqId;
    this.verify(localTs, exchTs, b, e);
  }

  private verify(localTs: bigint, exchTs: bigint, b: BookState, e: OkxBookEntry): void {
    if (e.checksum === null || e.checksum === 0) {
      this.checksums.skipped++;
      return;
    }
    if (okxChecksum(b.book) === e.checksum) {
      this.checksums.verified++;
      return;
    }
    this.checksums.failed++;
    this.gap(b, localTs, exchTs, GapReason.Checksum, idOrNone(e.seqId), idOrNone(e.prevSeqId));
  }

  private onTradeMessage(localTs: bigint, msg: Json, instId: string, place: InputPlace): void {
    let trades: OkxTrade[];
    try {
      trades = parseTrades(msg, instId);
    } catch (e) {
      this.reject(place, `trades ${instId}: ${(e as Error).message}`);
      return;
    }
    for (const [k, t] of trades.entries()) {
      const stream = this.stream(t.instId, place);
      if (stream === null) continue;
      const id = numericTradeId(t.id);
      const flags = (id === null ? Flag.NonNumericId : 0) | (k === trades.length - 1 ? Flag.MessageEnd : 0);
      this.sink.event(stream, localTs, msTextToNs(t.exchMs), EventKind.Trade, t.side, t.price, t.size, id ?? -1n, -1n, flags);
    }
  }

  /** Write a Gap row; the book is unknown until the next snapshot. */
  private gap(b: BookState, localTs: bigint, exchTs: bigint, reason: GapReason, id: bigint, prevId: bigint): void {
    this.sink.event(b.stream, localTs, exchTs, EventKind.Gap, 0, NaN, reason, id, prevId, Flag.MessageEnd);
    b.state = 'broken';
    b.book.clear();
    const name = GAP_REASON_NAMES[reason]!;
    this.gaps[name] = (this.gaps[name] ?? 0) + 1;
  }
}
