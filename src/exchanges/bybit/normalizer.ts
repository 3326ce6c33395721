// Bybit v5 public streams (spot or linear, one normalizer per connection) to normalized events:
// orderbook.N snapshot/delta → book rows, orderbook.1 → BestBidOffer rows, publicTrade → trades.
//
// Sync rules (docs/cryptofeed-import.md): a snapshot, or u == 1 (service restart: the frame holds the
// full book), resets the book; a delta must carry u == previous u + 1, else a Gap row is written and
// deltas are ignored until the next snapshot. Deltas before any snapshot: one NoSnapshot gap.
import { NS_PER_MS } from '../../data/time.js';
import { EventKind, Flag, GAP_REASON_NAMES, GapReason, type ExchangeId } from '../../data/types.js';
import { markReconnect, type EventSink, type InputPlace, type ProblemLog } from '../../data/sink.js';
import { parseBookMessage, parseTrades, splitTopic, type BybitBookMessage, type BybitLevel, type BybitTrade } from './messages.js';
import type { Normalizer } from '../kit/normalizer.js';
import { frameObject, numericTradeId, shown } from '../kit/json.js';

export type BybitMarket = 'spot' | 'linear';

export const BYBIT_EXCHANGE: Record<BybitMarket, ExchangeId> = { spot: 'bybit-spot', linear: 'bybit-linear' };

/** Topics that carry nothing the dataset models: kept in the raw table only, without a problem. */
const IGNORED_CHANNELS = new Set(['tickers', 'kline', 'allLiquidation', 'liquidation', 'insurance', 'adlAlert', 'priceLimit', 'lt', 'tickers_lt', 'kline_lt']);


type SyncState = 'none' | 'synced' | 'broken';

interface BookSync {
  stream: number;
  depth: string;
  state: SyncState;
  lastU: number;
  /** The id of the last book message written (rows' prev_id): a delta without levels writes no row, so it can lag lastU. */
  chainId: number;
}

interface BestBidOffer {
  bid: BybitLevel | null;
  ask: BybitLevel | null;
}

const msToNs = (ms: number): bigint => BigInt(ms) * NS_PER_MS;

/** Spot trade ids are numeric strings; linear ones are UUIDs, which the `id` column cannot hold. */
export class BybitNormalizer implements Normalizer {
  readonly exchange: ExchangeId;
  /** Gap rows written, by reason name. */
  readonly gaps: Record<string, number> = {};
  /** Frames not written as events because a field is not what the exchange sends (kept raw by the caller). */
  invalidFrames = 0;
  private readonly streams = new Map<string, number>();
  private readonly books = new Map<string, BookSync>();
  private readonly bbos = new Map<string, BestBidOffer>();
  private readonly otherDepthReported = new Set<string>();

  constructor(
    private readonly sink: EventSink,
    private readonly problems: ProblemLog,
    readonly market: BybitMarket,
  ) {
    this.exchange = BYBIT_EXCHANGE[market];
  }

  /** The connection was re-established: every book needs a new snapshot. */
  reset(localTs: bigint): void {
    markReconnect(this.sink, [...this.books.values()].map((b) => b.stream), localTs);
    for (const b of this.books.values()) b.state = 'none';
    this.bbos.clear();
  }

  /** One frame as received: its text, or the JSON already parsed from it. */
  onMessage(localTs: bigint, frame: unknown, place: InputPlace): void {
    const msg = frameObject(frame, place, this.problems);
    if (msg === null) {
      this.invalidFrames++;
      return;
    }
    if (msg.topic === undefined) {
      // Subscription acks and pongs.
      if ('op' in msg || 'success' in msg) return;
      this.problems.add('unknown_message', place, 'frame has no "topic" and is not a reply to an "op"');
      return;
    }
    if (typeof msg.topic !== 'string') {
      this.reject(place, `field "topic" must be a string, got ${shown(msg.topic)}`);
      return;
    }
    const { channel } = splitTopic(msg.topic);
    if (channel === 'orderbook') {
      let book: BybitBookMessage;
      try {
        book = parseBookMessage(msg, msg.topic);
      } catch (e) {
        this.reject(place, `${msg.topic}: ${(e as Error).message}`);
        this.unreadableDelta(localTs, msg.topic);
        return;
      }
      if (book.depth === '1') this.onBestBidOffer(localTs, book);
      else this.onBook(localTs, book, place);
    } else if (channel === 'publicTrade') {
      let trades: BybitTrade[];
      try {
        trades = parseTrades(msg);
      } catch (e) {
        this.reject(place, `${msg.topic}: ${(e as Error).message}`);
        return;
      }
      this.onTrades(localTs, splitTopic(msg.topic).symbol, trades);
    } else if (!IGNORED_CHANNELS.has(channel)) {
      this.problems.add('unknown_topic', place, `unknown topic ${shown(msg.topic)}`);
    }
  }

  /** A frame (or part of one) with a field the exchange does not send: counted, logged, never written. */
  private reject(place: InputPlace, message: string): void {
    this.invalidFrames++;
    this.problems.add('bad_field', place, message);
  }

  private stream(symbol: string): number {
    let s = this.streams.get(symbol);
    if (s === undefined) {
      s = this.sink.stream({ exchange: this.exchange, market: this.market, symbol });
      this.streams.set(symbol, s);
    }
    return s;
  }

  private onBook(localTs: bigint, m: BybitBookMessage, place: InputPlace): void {
    let sync = this.books.get(m.symbol);
    if (sync === undefined) {
      sync = { stream: this.stream(m.symbol), depth: m.depth, state: 'none', lastU: -1, chainId: -1 };
      this.books.set(m.symbol, sync);
    }
    // Two depths of one symbol would write two different books into one stream.
    if (sync.depth !== m.depth) {
      const key = `${m.depth}.${m.symbol}`;
      if (!this.otherDepthReported.has(key)) {
        this.otherDepthReported.add(key);
        this.problems.add('duplicate_book', place, `orderbook.${m.depth}.${m.symbol} ignored: the stream already follows orderbook.${sync.depth}`);
      }
      return;
    }
    const exchTs = msToNs(m.exchMs);
    const pubTs = msToNs(m.pubMs);
    if (m.type === 'snapshot' || m.u === 1) {
      this.writeSnapshot(sync.stream, localTs, exchTs, m);
      sync.state = 'synced';
      sync.lastU = m.u;
      sync.chainId = m.u;
      return;
    }
    if (sync.state === 'broken') return;
    if (sync.state === 'none') {
      this.gap(sync.stream, localTs, exchTs, GapReason.NoSnapshot, BigInt(m.u), -1n, pubTs);
      sync.state = 'broken';
      return;
    }
    if (m.u !== sync.lastU + 1) {
      this.gap(sync.stream, localTs, exchTs, GapReason.Sequence, BigInt(m.u), BigInt(sync.lastU), pubTs);
      sync.state = 'broken';
      return;
    }
    sync.lastU = m.u;
    const id = BigInt(m.u);
    const prev = BigInt(sync.chainId);
    const n = m.bids.length + m.asks.length;
    if (n > 0) sync.chainId = m.u;
    let i = 0;
    for (const [side, lvls] of [[1, m.bids], [-1, m.asks]] as const) {
      for (const lv of lvls) {
        const flags = ++i === n ? Flag.MessageEnd : 0;
        this.sink.event(sync.stream, localTs, exchTs, EventKind.BookLevel, side, lv.price, lv.size, id, prev, flags, pubTs);
      }
    }
  }

  /** An orderbook frame that could not be read is lost: its book is unknown until the next snapshot. */
  private unreadableDelta(localTs: bigint, topic: string): void {
    const { args, symbol } = splitTopic(topic);
    const sync = this.books.get(symbol);
    if (sync === undefined || sync.state !== 'synced' || sync.depth !== args[0]) return;
    this.gap(sync.stream, localTs, localTs, GapReason.BadInput, -1n, BigInt(sync.lastU));
    sync.state = 'broken';
  }

  private writeSnapshot(stream: number, localTs: bigint, exchTs: bigint, m: BybitBookMessage): void {
    const id = BigInt(m.u);
    const pubTs = msToNs(m.pubMs);
    // A delta with u == 1 carries the whole restarted book; size 0 there means "no level".
    const keep = (lv: BybitLevel) => m.type === 'snapshot' || lv.size > 0;
    const bids = m.bids.filter(keep);
    const asks = m.asks.filter(keep);
    const n = bids.length + asks.length;
    if (n === 0) {
      const flags = Flag.SnapshotBegin | Flag.SnapshotEnd | Flag.MessageEnd;
      this.sink.event(stream, localTs, exchTs, EventKind.BookSnapshot, 0, NaN, 0, id, -1n, flags, pubTs);
      return;
    }
    let i = 0;
    for (const [side, lvls] of [[1, bids], [-1, asks]] as const) {
      for (const lv of lvls) {
        let flags = i === 0 ? Flag.SnapshotBegin : 0;
        if (++i === n) flags |= Flag.SnapshotEnd | Flag.MessageEnd;
        this.sink.event(stream, localTs, exchTs, EventKind.BookSnapshot, side, lv.price, lv.size, id, -1n, flags, pubTs);
      }
    }
  }

  /** orderbook.1: snapshots (re-sent unchanged every 3 s) and, should they come, deltas of the top level. */
  private onBestBidOffer(localTs: bigint, m: BybitBookMessage): void {
    const stream = this.stream(m.symbol);
    let bbo = this.bbos.get(m.symbol);
    if (bbo === undefined || m.type === 'snapshot') {
      bbo = { bid: null, ask: null };
      this.bbos.set(m.symbol, bbo);
    }
    const top = (lvls: BybitLevel[], old: BybitLevel | null) => {
      if (m.type === 'snapshot') return lvls[0] ?? null;
      if (lvls.length === 0) return old;
      // A delta of a one-level book: the level that remains, or none if it only deleted.
      return lvls.find((lv) => lv.size > 0) ?? null;
    };
    bbo.bid = top(m.bids, bbo.bid);
    bbo.ask = top(m.asks, bbo.ask);
    const exchTs = msToNs(m.exchMs);
    const pubTs = msToNs(m.pubMs);
    const id = BigInt(m.u);
    const { bid, ask } = bbo;
    this.sink.event(stream, localTs, exchTs, EventKind.BestBidOffer, 1, bid?.price ?? NaN, bid?.size ?? 0, id, -1n, 0, pubTs);
    this.sink.event(stream, localTs, exchTs, EventKind.BestBidOffer, -1, ask?.price ?? NaN, ask?.size ?? 0, id, -1n, Flag.MessageEnd, pubTs);
  }

  private onTrades(localTs: bigint, symbol: string, trades: BybitTrade[]): void {
    const stream = this.stream(symbol);
    for (const [k, t] of trades.entries()) {
      const id = numericTradeId(t.id);
      let flags = (id === null ? Flag.NonNumericId : 0) | (k === trades.length - 1 ? Flag.MessageEnd : 0);
      if (t.blockTrade) flags |= Flag.OffBook;
      this.sink.event(stream, localTs, msToNs(t.exchMs), EventKind.Trade, t.side, t.price, t.size, id ?? -1n, -1n, flags, msToNs(t.pubMs));
    }
  }

  private gap(stream: number, localTs: bigint, exchTs: bigint, reason: GapReason, id: bigint, prevId: bigint, pubTs: bigint = exchTs): void {
    this.sink.event(stream, localTs, exchTs, EventKind.Gap, 0, NaN, reason, id, prevId, Flag.MessageEnd, pubTs);
    const name = GAP_REASON_NAMES[reason]!;
    this.gaps[name] = (this.gaps[name] ?? 0) + 1;
  }
}
