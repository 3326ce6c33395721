// Binance spot, USD-M and COIN-M market data: depthUpdate, trade, bookTicker and REST depth snapshots,
// with Binance's own book-sync rules (bridging.ts): diffs are buffered until a snapshot bridges them.
// A broken chain is written as a gap marker and the stream waits for the next snapshot: never patched.
import { shown } from '../kit/json.js';
import { InvalidField as BadField, millisNumber, priceText, sizeText, wholeNumber } from '../kit/numbers.js';
import type { EventSink, InputPlace, ProblemLog } from '../../data/sink.js';
import { placeText } from '../../data/sink.js';
import { EventKind, Flag, GAP_REASON_NAMES, GapReason, Side, type ExchangeId, type MarketType } from '../../data/types.js';
import { binanceEvent, binancePayload } from './frames.js';
import type { Normalizer } from '../kit/normalizer.js';
import { BINANCE_MARKET, type BinanceExchange } from './markets.js';
import { bridgeBreak, bridgesSnapshot, chainBreak, containedInSnapshot, continuesChain } from './bridging.js';

export type { BinanceExchange } from './markets.js';


/** At most this many diffs wait for a snapshot; older ones are dropped (they stay in the raw table). */
const MAX_BUFFERED = 20_000;

interface BufferedDiff {
  localTs: bigint;
  exchTs: bigint;
  /** E: when Binance published the message (futures: after T, the match time; spot: the same). */
  pubTs: bigint;
  U: number;
  u: number;
  pu: number;
  /** Parsed levels: price, size, price, size ... */
  b: Float64Array;
  a: Float64Array;
  place: InputPlace;
}

interface DepthState {
  stream: number;
  synced: boolean;
  /** Last update id applied (the local id of Binance's docs). */
  lastId: number;
  /** prev_id for the next written update: the id the book stood at after the last written one. */
  chainId: number;
  buffer: BufferedDiff[];
  /** A gap marker was already written for the current unsynced period. */
  gapWritten: boolean;
  /** Synced by a snapshot that no diff has followed yet: the next diff must bridge it (bridging.ts). */
  awaitingBridge: boolean;
}

/** A field of the message is not what Binance sends; the message names it. */
export { InvalidField as BadField } from '../kit/numbers.js';

/** Ids (update ids, trade ids) are non-negative whole numbers. */
function int(v: unknown, field: string): number {
  return wholeNumber(v, field);
}

function str(v: unknown, field: string): string {
  if (typeof v === 'string' && v.length > 0) return v;
  throw new BadField(`field "${field}" must be a string, got ${shown(v)}`);
}

function levels(v: unknown, field: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new BadField(`field "${field}" must be an array of [price, size], got ${shown(v)}`);
}

/** Milliseconds since 1970 (up to 2100): a time outside is no exchange's. */
function ms(v: unknown, field: string): bigint {
  return millisNumber(v, field);
}

export interface BinanceStats {
  gaps: Record<string, number>;
  snapshots: number;
}

export class BinanceNormalizer implements Normalizer {
  private readonly depth = new Map<string, DepthState>();
  private readonly streams = new Map<string, number>();
  readonly stats: BinanceStats = { gaps: {}, snapshots: 0 };
  /** Frames not written as events because a field is not what Binance sends (kept raw by the caller). */
  invalidFrames = 0;
  private readonly futures: boolean;
  private readonly market: MarketType;

  constructor(
    readonly exchange: BinanceExchange,
    private readonly sink: EventSink,
    private readonly problems: ProblemLog,
  ) {
    this.futures = exchange !== 'binance-spot';
    this.market = BINANCE_MARKET[exchange];
  }

  get gaps(): Readonly<Record<string, number>> {
    return this.stats.gaps;
  }

  private streamOf(symbol: string): number {
    let s = this.streams.get(symbol);
    if (s === undefined) {
      s = this.sink.stream({ exchange: this.exchange as ExchangeId, market: this.market, symbol });
      this.streams.set(symbol, s);
    }
    return s;
  }

  private depthOf(symbol: string): DepthState {
    let d = this.depth.get(symbol);
    if (!d) {
      d = { stream: this.streamOf(symbol), synced: false, lastId: -1, chainId: -1, buffer: [], gapWritten: false, awaitingBridge: false };
      this.depth.set(symbol, d);
    }
    return d;
  }

  /**
   * One stream message: the combined-stream wrapper {"stream","data"} or a bare payload.
   * Returns false (after logging why) if the message could not be used.
   */
  onMessage(localTs: bigint, msg: unknown, place: InputPlace): boolean {
    try {
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new BadField('message is not a JSON object');
      const m = msg as Record<string, unknown>;
      const data = binancePayload(m) as Record<string, unknown>;
      if (typeof data !== 'object' || data === null) throw new BadField('field "data" must be an object');
      switch (binanceEvent(data)) {
        case 'depth':
          this.onDepth(localTs, data, place);
          break;
        case 'trade':
          this.onTrade(localTs, data);
          break;
        case 'bbo':
          this.onBookTicker(localTs, data);
          break;
        case 'snapshot':
          this.onSnapshot(localTs, data, undefined, place);
          break;
        case 'ignored':
          break;
        case 'unknown':
          throw new BadField(`unknown message (event ${shown(data.e)})`);
      }
      return true;
    } catch (err) {
      if (err instanceof BadField) {
        this.invalidFrames++;
        this.problems.add('bad_message', place, err.message);
        return false;
      }
      throw err;
    }
  }

  private onTrade(localTs: bigint, d: Record<string, unknown>): void {
    const symbol = str(d.s, 's');
    const price = priceText(d.p, 'p');
    const size = sizeText(d.q, 'q');
    const id = int(d.t, 't');
    // T: the trade's match time; E: when the message was published (docs/dataset-format.md).
    const exchTs = ms(d.T ?? d.E, 'T');
    const pubTs = d.E !== undefined ? ms(d.E, 'E') : exchTs;
    if (typeof d.m !== 'boolean') throw new BadField(`field "m" must be a boolean, got ${shown(d.m)}`);
    // m: the buyer was the maker, so the aggressor sold.
    const side = d.m ? Side.Ask : Side.Bid;
    let flags = Flag.MessageEnd;
    if (d.X !== undefined && d.X !== 'MARKET') flags |= Flag.OffBook;
    this.sink.event(this.streamOf(symbol), localTs, exchTs, EventKind.Trade, side, price, size, BigInt(id), -1n, flags, pubTs);
  }

  private onBookTicker(localTs: bigint, d: Record<string, unknown>): void {
    const symbol = str(d.s, 's');
    const id = BigInt(int(d.u, 'u'));
    const bid = priceText(d.b, 'b');
    const bidSize = sizeText(d.B, 'B');
    const ask = priceText(d.a, 'a');
    const askSize = sizeText(d.A, 'A');
    let exchTs: bigint;
    let pubTs: bigint;
    let flags = 0;
    // Futures bookTicker: T (transaction) and E (publish); spot: neither.
    if (d.T !== undefined || d.E !== undefined) {
      exchTs = ms(d.T ?? d.E, 'T');
      pubTs = d.E !== undefined ? ms(d.E, 'E') : exchTs;
    } else {
      exchTs = pubTs = localTs;
      flags = Flag.NoExchangeTime;
    }
    const s = this.streamOf(symbol);
    this.sink.event(s, localTs, exchTs, EventKind.BestBidOffer, Side.Bid, bid, bidSize, id, -1n, flags, pubTs);
    this.sink.event(s, localTs, exchTs, EventKind.BestBidOffer, Side.Ask, ask, askSize, id, -1n, flags | Flag.MessageEnd, pubTs);
  }

  private onDepth(localTs: bigint, d: Record<string, unknown>, place: InputPlace): void {
    const symbol = str(d.s, 's');
    const U = int(d.U, 'U');
    const u = int(d.u, 'u');
    const pu = this.futures ? int(d.pu, 'pu') : U - 1;
    // Futures carry the matching-engine time T; spot only the event time E.
    const exchTs = ms(this.futures ? (d.T ?? d.E) : d.E, this.futures ? 'T' : 'E');
    const pubTs = this.futures && d.E !== undefined ? ms(d.E, 'E') : exchTs;
    const b = parseLevels(levels(d.b, 'b'), 'b');
    const a = parseLevels(levels(d.a, 'a'), 'a');
    const st = this.depthOf(symbol);
    const diff: BufferedDiff = { localTs, exchTs, pubTs, U, u, pu, b, a, place };
    if (!st.synced) {
      this.buffer(st, diff);
      return;
    }
    if (containedInSnapshot(this.futures, st.lastId, u)) return; // old news
    const joins = st.awaitingBridge ? bridgesSnapshot(this.futures, st.lastId, diff) : continuesChain(this.futures, st.lastId, diff);
    if (!joins) {
      const why = st.awaitingBridge ? bridgeBreak(this.futures, st.lastId, diff) : chainBreak(this.futures, st.lastId, diff);
      this.gap(st, localTs, exchTs, u, GapReason.Sequence, place, why, pubTs);
      this.buffer(st, diff);
      return;
    }
    this.writeDiff(st, diff, 0);
  }

  private buffer(st: DepthState, diff: BufferedDiff): void {
    st.buffer.push(diff);
    if (st.buffer.length > MAX_BUFFERED) st.buffer.shift();
  }

  private gap(st: DepthState, localTs: bigint, exchTs: bigint, id: number, reason: number, place: InputPlace | null, why: string, pubTs: bigint = exchTs): void {
    st.synced = false;
    st.awaitingBridge = false;
    if (st.gapWritten) return;
    st.gapWritten = true;
    this.sink.event(st.stream, localTs, exchTs, EventKind.Gap, Side.None, NaN, reason, BigInt(id), BigInt(st.lastId), Flag.MessageEnd, pubTs);
    const name = GAP_REASON_NAMES[reason]!;
    this.stats.gaps[name] = (this.stats.gaps[name] ?? 0) + 1;
    this.problems.add(`gap_${name}`, place ? placeText(place) : this.exchange, `${this.exchange} ${this.symbolOf(st)}: ${why}`);
  }

  private symbolOf(st: DepthState): string {
    for (const [sym, d] of this.depth) if (d === st) return sym;
    return '?';
  }

  private writeDiff(st: DepthState, diff: BufferedDiff, extraFlags: number): void {
    const id = BigInt(diff.u);
    const prev = BigInt(st.chainId);
    const n = (diff.b.length + diff.a.length) / 2;
    let k = 0;
    for (const side of [Side.Bid, Side.Ask]) {
      const lv = side === Side.Bid ? diff.b : diff.a;
      for (let i = 0; i < lv.length; i += 2) {
        k++;
        const flags = extraFlags | (k === n ? Flag.MessageEnd : 0);
        this.sink.event(st.stream, diff.localTs, diff.exchTs, EventKind.BookLevel, side, lv[i]!, lv[i + 1]!, id, prev, flags, diff.pubTs);
      }
    }
    st.lastId = diff.u;
    st.awaitingBridge = false;
    // An update without levels writes no row, so the next written row continues from the last written id.
    if (n > 0) st.chainId = diff.u;
  }

  /** A REST depth snapshot ({"lastUpdateId", "bids", "asks"}); `symbol` when the payload does not name it. */
  onSnapshot(localTs: bigint, d: Record<string, unknown>, symbolHint: string | undefined, place: InputPlace): void {
    const symbol = typeof d.symbol === 'string' ? d.symbol : symbolHint;
    if (!symbol) throw new BadField('snapshot does not name its symbol and none is known for this input');
    const lid = int(d.lastUpdateId, 'lastUpdateId');
    const bids = parseLevels(levels(d.bids, 'bids'), 'bids');
    const asks = parseLevels(levels(d.asks, 'asks'), 'asks');
    const st = this.depthOf(symbol);
    this.stats.snapshots++;
    // Drop what the snapshot already contains.
    const pending = st.buffer.filter((x) => !containedInSnapshot(this.futures, lid, x.u));
    const first = pending[0];
    if (first) {
      if (!bridgesSnapshot(this.futures, lid, first)) {
        // The snapshot is older than the diffs we hold: a live client would fetch another one.
        this.gap(st, localTs, first.exchTs, first.u, GapReason.NoSnapshot, place, `snapshot lastUpdateId ${lid} does not reach the first buffered diff (U ${first.U}, u ${first.u})`, first.pubTs);
        return;
      }
    }
    // Exchange time of the snapshot: its own (futures E/T), else that of the diff that bridges it.
    const exchTs = d.T !== undefined ? ms(d.T, 'T') : d.E !== undefined ? ms(d.E, 'E') : (first?.exchTs ?? localTs);
    const pubTs = d.E !== undefined ? ms(d.E, 'E') : d.T !== undefined ? exchTs : (first?.pubTs ?? exchTs);
    const snapFlags = Flag.FromRest | (d.T === undefined && d.E === undefined && !first ? Flag.NoExchangeTime : 0);
    const id = BigInt(lid);
    const rows = (bids.length + asks.length) / 2;
    if (rows === 0) {
      this.sink.event(st.stream, localTs, exchTs, EventKind.BookSnapshot, Side.None, NaN, 0, id, -1n, snapFlags | Flag.SnapshotBegin | Flag.SnapshotEnd | Flag.MessageEnd, pubTs);
    } else {
      let k = 0;
      for (const side of [Side.Bid, Side.Ask]) {
        const lv = side === Side.Bid ? bids : asks;
        for (let i = 0; i < lv.length; i += 2) {
          k++;
          let flags = snapFlags;
          if (k === 1) flags |= Flag.SnapshotBegin;
          if (k === rows) flags |= Flag.SnapshotEnd | Flag.MessageEnd;
          this.sink.event(st.stream, localTs, exchTs, EventKind.BookSnapshot, side, lv[i]!, lv[i + 1]!, id, -1n, flags, pubTs);
        }
      }
    }
    st.synced = true;
    st.gapWritten = false;
    st.lastId = lid;
    st.chainId = lid;
    st.buffer = [];
    st.awaitingBridge = true;
    // Diffs received before the snapshot become applicable now, when a live client could apply them.
    let prevU = lid;
    for (const x of pending) {
      if (x !== first && !continuesChain(this.futures, prevU, x)) {
        this.gap(st, localTs, x.exchTs, x.u, GapReason.Sequence, x.place, chainBreak(this.futures, prevU, x), x.pubTs);
        st.buffer = pending.slice(pending.indexOf(x));
        return;
      }
      this.writeDiff(st, { ...x, localTs }, Flag.Buffered);
      prevU = x.u;
    }
  }

  onRestSnapshot(localTs: bigint, body: Record<string, unknown>, symbol: string, place: InputPlace): void {
    try {
      this.onSnapshot(localTs, body, symbol, place);
    } catch (err) {
      if (!(err instanceof BadField)) throw err;
      this.invalidFrames++;
      this.problems.add('bad_message', place, err.message);
    }
  }

  /** Whether the symbol's book is known (a snapshot bridged its diffs and no gap broke the chain since). */
  isSynced(symbol: string): boolean {
    return this.depth.get(symbol)?.synced ?? false;
  }

  /** The connection dropped: every book of this normalizer is unknown until its next snapshot. */
  onDisconnect(localTs: bigint): void {
    for (const st of this.depth.values()) {
      this.sink.event(st.stream, localTs, localTs, EventKind.Disconnect, Side.None, NaN, 0, -1n, BigInt(st.lastId), Flag.MessageEnd | Flag.NoExchangeTime);
      st.synced = false;
      st.buffer = [];
      st.gapWritten = false;
    }
  }

  /** Streams still waiting for a snapshot when the input ends. */
  finish(place: string): void {
    for (const [symbol, st] of this.depth) {
      if (!st.synced && st.buffer.length > 0 && !st.gapWritten) {
        const last = st.buffer[st.buffer.length - 1]!;
        st.gapWritten = true;
        this.sink.event(st.stream, last.localTs, last.exchTs, EventKind.Gap, Side.None, NaN, GapReason.NoSnapshot, BigInt(last.u), BigInt(st.lastId), Flag.MessageEnd, last.pubTs);
        this.stats.gaps.no_snapshot = (this.stats.gaps.no_snapshot ?? 0) + 1;
        this.problems.add('gap_no_snapshot', place, `${this.exchange} ${symbol}: ${st.buffer.length} depth update(s) never got a snapshot; the book is unknown`);
      }
    }
  }
}

/** [[price, size], ...] as decimal strings, checked and parsed once: price, size, price, size ... */
function parseLevels(arr: unknown[], field: string): Float64Array {
  const out = new Float64Array(arr.length * 2);
  for (let i = 0; i < arr.length; i++) {
    const l = arr[i];
    if (!Array.isArray(l) || l.length < 2) throw new BadField(`field "${field}[${i}]" must be [price, size], got ${shown(l)}`);
    out[2 * i] = priceText(l[0], `${field}[${i}][0]`);
    out[2 * i + 1] = sizeText(l[1], `${field}[${i}][1]`);
  }
  return out;
}
