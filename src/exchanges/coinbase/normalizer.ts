// Coinbase Advanced Trade market data (one normalizer per connection) to normalized events:
// level2 (`l2_data`) snapshot/update → book rows, market_trades updates → trades.
//
// Sync rules (docs/cryptofeed-import.md): `sequence_num` counts every message of the connection, across
// channels. A jump means messages were lost and any of them may have been a book update, so every book of
// the connection gets a Gap row and ignores updates until its next snapshot.
import { EventKind, Flag, GAP_REASON_NAMES, GapReason } from '../../data/types.js';
import { markReconnect, type EventSink, type InputPlace, type ProblemLog } from '../../data/sink.js';
import { messageTime, parseL2Events, parseLiveTrades, type CoinbaseBookEvent, type CoinbaseTrade, type Json } from './messages.js';
import type { Normalizer } from '../kit/normalizer.js';
import { frameObject, numericTradeId, shown } from '../kit/json.js';

/** Channels that carry nothing the dataset models: kept in the raw table only, without a problem. */
const IGNORED_CHANNELS = new Set(['heartbeats', 'subscriptions', 'ticker', 'ticker_batch', 'candles', 'status', 'user', 'futures_balance_summary']);


type SyncState = 'none' | 'synced' | 'broken';

interface BookSync {
  stream: number;
  state: SyncState;
  /** sequence_num of the last update written for this book: its rows' prev_id (sequence_num is
   *  connection-wide, so the connection's previous number would not chain per stream). */
  lastId: bigint;
}

export class CoinbaseNormalizer implements Normalizer {
  readonly exchange = 'coinbase' as const;
  /** Gap rows written, by reason name. */
  readonly gaps: Record<string, number> = {};
  /** Frames not written as events because a field is not what the exchange sends (kept raw by the caller). */
  invalidFrames = 0;
  private readonly streams = new Map<string, number>();
  private readonly books = new Map<string, BookSync>();
  private lastSeq: number | null = null;

  constructor(
    private readonly sink: EventSink,
    private readonly problems: ProblemLog,
  ) {}

  /** The connection was re-established: sequence_num restarts and every book needs a new snapshot. */
  reset(localTs: bigint): void {
    markReconnect(this.sink, [...this.books.values()].map((b) => b.stream), localTs);
    this.lastSeq = null;
    for (const b of this.books.values()) b.state = 'none';
  }

  /** One frame as received: its text, or the JSON already parsed from it. */
  onMessage(localTs: bigint, frame: unknown, place: InputPlace): void {
    const msg = frameObject(frame, place, this.problems);
    if (msg === null) {
      this.invalidFrames++;
      return;
    }
    if (msg.type === 'error') {
      this.problems.add('exchange_error', place, `Coinbase error: ${typeof msg.message === 'string' ? msg.message.slice(0, 200) : shown(msg.message)}`);
      return;
    }
    const seq = msg.sequence_num;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      this.reject(place, `field "sequence_num" must be a non-negative integer, got ${shown(seq)}`);
      return;
    }
    const exchTs = messageTime(msg) ?? localTs;
    const prevSeq = this.lastSeq;
    if (prevSeq !== null && seq > prevSeq + 1) this.breakAllBooks(localTs, exchTs, GapReason.Sequence, BigInt(seq), BigInt(prevSeq));
    else if (prevSeq !== null && seq <= prevSeq) this.problems.add('sequence_backwards', place, `sequence_num ${seq} after ${prevSeq}`);
    this.lastSeq = seq;

    const channel = msg.channel;
    if (channel === 'l2_data') this.onL2(localTs, msg, seq, prevSeq, place);
    else if (channel === 'market_trades') this.onTrades(localTs, msg, place);
    else if (typeof channel !== 'string') this.reject(place, `field "channel" must be a string, got ${shown(channel)}`);
    else if (!IGNORED_CHANNELS.has(channel)) this.problems.add('unknown_topic', place, `unknown channel ${shown(channel)}`);
  }

  /** A frame (or part of one) with a field the exchange does not send: counted, logged, never written. */
  private reject(place: InputPlace, message: string): void {
    this.invalidFrames++;
    this.problems.add('bad_field', place, message);
  }

  private stream(productId: string): number {
    let s = this.streams.get(productId);
    if (s === undefined) {
      s = this.sink.stream({ exchange: this.exchange, market: 'spot', symbol: productId });
      this.streams.set(productId, s);
    }
    return s;
  }

  private onL2(localTs: bigint, msg: Json, seq: number, prevSeq: number | null, place: InputPlace): void {
    let events: CoinbaseBookEvent[];
    try {
      events = parseL2Events(msg);
    } catch (e) {
      this.reject(place, `l2_data: ${(e as Error).message}`);
      // The update it held is lost just as if the message had never arrived.
      this.breakAllBooks(localTs, messageTime(msg) ?? localTs, GapReason.BadInput, BigInt(seq), prevSeq === null ? -1n : BigInt(prevSeq));
      return;
    }
    // Two clocks: each update's event_time (the match time) and the message's timestamp (when Coinbase sent it).
    const sentTs = messageTime(msg);
    const msgTs = sentTs ?? localTs;
    const id = BigInt(seq);
    const prev = prevSeq === null ? -1n : BigInt(prevSeq);
    for (const ev of events) {
      let b = this.books.get(ev.productId);
      if (b === undefined) {
        b = { stream: this.stream(ev.productId), state: 'none', lastId: -1n };
        this.books.set(ev.productId, b);
      }
      if (ev.type === 'snapshot') {
        this.writeSnapshot(b.stream, localTs, msgTs, id, ev, sentTs);
        b.state = 'synced';
        b.lastId = id;
      } else if (b.state === 'none') {
        this.gap(b, localTs, ev.updates[0]?.exchTs ?? msgTs, GapReason.NoSnapshot, id, prev);
      } else if (b.state === 'synced') {
        const n = ev.updates.length;
        const chainPrev = b.lastId;
        ev.updates.forEach((u, i) => {
          const flags = i === n - 1 ? Flag.MessageEnd : 0;
          this.sink.event(b.stream, localTs, u.exchTs, EventKind.BookLevel, u.side, u.price, u.size, id, chainPrev, flags, sentTs ?? u.exchTs);
        });
        if (n > 0) b.lastId = id;
      }
    }
  }

  private writeSnapshot(stream: number, localTs: bigint, msgTs: bigint, id: bigint, ev: CoinbaseBookEvent, sentTs: bigint | null): void {
    const n = ev.updates.length;
    if (n === 0) {
      const flags = Flag.SnapshotBegin | Flag.SnapshotEnd | Flag.MessageEnd;
      this.sink.event(stream, localTs, msgTs, EventKind.BookSnapshot, 0, NaN, 0, id, -1n, flags);
      return;
    }
    ev.updates.forEach((u, i) => {
      let flags = i === 0 ? Flag.SnapshotBegin : 0;
      if (i === n - 1) flags |= Flag.SnapshotEnd | Flag.MessageEnd;
      this.sink.event(stream, localTs, u.exchTs, EventKind.BookSnapshot, u.side, u.price, u.size, id, -1n, flags, sentTs ?? u.exchTs);
    });
  }

  private onTrades(localTs: bigint, msg: Json, place: InputPlace): void {
    let trades: CoinbaseTrade[];
    try {
      trades = parseLiveTrades(msg);
    } catch (e) {
      this.reject(place, `market_trades: ${(e as Error).message}`);
      return;
    }
    const sentTs = messageTime(msg);
    for (const [k, t] of trades.entries()) {
      const id = numericTradeId(t.id);
      const flags = (id === null ? Flag.NonNumericId : 0) | (k === trades.length - 1 ? Flag.MessageEnd : 0);
      this.sink.event(this.stream(t.productId), localTs, t.exchTs, EventKind.Trade, t.side, t.price, t.size, id ?? -1n, -1n, flags, sentTs ?? t.exchTs);
    }
  }

  /** Messages were lost on the connection: no book of it can be trusted until its next snapshot. */
  private breakAllBooks(localTs: bigint, exchTs: bigint, reason: GapReason, id: bigint, prevId: bigint): void {
    for (const b of this.books.values()) {
      if (b.state === 'synced') this.gap(b, localTs, exchTs, reason, id, prevId);
    }
  }

  private gap(b: BookSync, localTs: bigint, exchTs: bigint, reason: GapReason, id: bigint, prevId: bigint): void {
    this.sink.event(b.stream, localTs, exchTs, EventKind.Gap, 0, NaN, reason, id, prevId, Flag.MessageEnd);
    b.state = 'broken';
    const name = GAP_REASON_NAMES[reason]!;
    this.gaps[name] = (this.gaps[name] ?? 0) + 1;
  }
}
