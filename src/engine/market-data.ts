// Market data decoded once for a run (or a whole sweep): the rows of the chosen streams as typed arrays,
// once in recorded (receive) order for the strategy's feed, once in exchange-time order for the exchange side.
//
// Effect time (docs/replay.md, "Exchange-time order"): all rows of one exchange message (rows up to
// Flag.MessageEnd) share one effect time, the message's exchange time (the largest exch_ts of its rows), raised
// to the previous message of the same channel if that one was later: a channel (the trade stream, the book
// stream) is one connection whose order is the exchange's own order, so a channel never runs backwards. Across
// a venue's channels (trades, best bid/offer, book), messages take effect in effect-time order: at an equal time
// trades go before BBO rows, BBO rows before book rows
// (a depth update stamped at the trade's time already reflects it, so the trade must reach the queue first and
// SimulatedVenue subtracts it from the level's decrease: no double count), then received order. Rows without
// an exchange time (Flag.NoExchangeTime) take their channel's previous effect time (else the venue's, else
// their local time), except BBO rows (Binance spot bookTicker): they take effect at their receive time in the
// exchange's clock (data.clock, local - offset), conservative: never before they were true. Venues are separate matching engines, so one venue's times never hold back another's.
import { openDataset, type Dataset } from '../data/reader.js';
import { ClockModelBuilder, measuresClock, type ClockModel } from '../data/clock-model.js';
import { EventKind, Flag } from '../data/types.js';
import type { VenueRef } from '../strategy/api.js';

export interface MarketChunk {
  length: number;
  kind: Uint8Array;
  side: Int8Array;
  flags: Uint16Array;
  price: Float64Array;
  size: Float64Array;
  /** Exchange-side effect time of the row's message (non-decreasing within its channel), ns since the origin. */
  effNs: Float64Array;
  /** The row's own exchange time and receive time, ns since the origin. */
  exchNs: Float64Array;
  localNs: Float64Array;
  /** The row's publish time (publish_ts; its exchange time in a dataset without the column), ns since the origin. */
  pubNs: Float64Array;
}

export interface MarketData {
  dir: string;
  venues: VenueRef[];
  /** Dataset origin in ns since epoch: relative times are measured from here. */
  originNs: bigint;
  /** Each venue's rows in recorded (receive) order, in chunks: what the strategy's feed delivers. */
  byVenue: MarketChunk[][];
  /** Each venue's rows in exchange-time order (effNs non-decreasing), in chunks: what the exchange side applies. */
  exchangeOrder: MarketChunk[][];
  rows: number;
  /** The recorder's clock against the exchanges' (src/data/clock-model.ts): one model for the dataset,
   *  estimated over every stream's rows, so every venue is corrected alike. */
  clock: ClockModel;
  /** Contract and market facts per venue, from the manifest. */
  markets: string[];
}

const KEEP = new Set<number>([EventKind.Trade, EventKind.BestBidOffer, EventKind.BookLevel, EventKind.BookSnapshot, EventKind.Gap, EventKind.Disconnect]);

/** Loads the rows of `venues` from a dataset folder (read batch by batch; kept in memory for the run). */
export function loadMarketData(dir: string, venues: VenueRef[]): MarketData {
  const ds: Dataset = openDataset(dir);
  const streamToVenue = new Int16Array(ds.streams.length).fill(-1);
  venues.forEach((v, i) => {
    streamToVenue[ds.findStream(v.exchange, v.symbol)] = i;
  });
  if (venues.length > 255) throw new Error('a run trades at most 255 venues');
  const byVenue: MarketChunk[][] = venues.map(() => []);
  const clock = new ClockModelBuilder();
  const counts = new Int32Array(venues.length);
  let rows = 0;
  ds.forEachEventBatch((b) => {
    counts.fill(0);
    for (let i = 0; i < b.length; i++) {
      // Every stream of the dataset was received by the same recorder: all of them estimate its clock.
      if (measuresClock(b.kind[i]!, b.flags[i]!)) clock.add(b.localNs[i]!, b.pubNs[i]!);
      const v = streamToVenue[b.stream[i]!]!;
      if (v >= 0 && KEEP.has(b.kind[i]!)) counts[v]!++;
    }
    const chunks = venues.map((_, v) => (counts[v]! > 0 ? newChunk(counts[v]!) : null));
    const fill = new Int32Array(venues.length);
    for (let i = 0; i < b.length; i++) {
      const v = streamToVenue[b.stream[i]!]!;
      const kind = b.kind[i]!;
      if (v < 0 || !KEEP.has(kind)) continue;
      const flags = b.flags[i]!;
      const exch = b.exchNs[i]!;
      const local = b.localNs[i]!;
      const c = chunks[v]!;
      const k = fill[v]!++;
      c.kind[k] = kind;
      c.side[k] = b.side[i]!;
      c.flags[k] = flags;
      c.price[k] = b.price[i]!;
      c.size[k] = b.size[i]!;
      c.exchNs[k] = exch;
      c.localNs[k] = local;
      c.pubNs[k] = b.pubNs[i]!;
      rows++;
    }
    chunks.forEach((c, v) => {
      if (c) byVenue[v]!.push(c);
    });
  });
  if (ds.problems.length > 0) {
    // Cut-off segments are read up to their last complete batch; say so rather than hide it.
    for (const p of ds.problems) process.stderr.write(`warning: ${p.message}\n`);
  }
  const received = byVenue.map(concat);
  const clockModel = clock.finish();
  for (const c of received) if (c) setEffectTimes(c, clockModel);
  return {
    dir,
    venues,
    originNs: ds.originNs,
    byVenue: received.map((c) => (c ? [c] : [])),
    exchangeOrder: received.map((c) => (c ? [exchangeTimeOrder(c)] : [])),
    rows,
    clock: clockModel,
    markets: venues.map((v) => ds.streams[ds.findStream(v.exchange, v.symbol)]!.market),
  };
}

function newChunk(n: number): MarketChunk {
  return {
    length: n,
    kind: new Uint8Array(n),
    side: new Int8Array(n),
    flags: new Uint16Array(n),
    price: new Float64Array(n),
    size: new Float64Array(n),
    effNs: new Float64Array(n),
    exchNs: new Float64Array(n),
    localNs: new Float64Array(n),
    pubNs: new Float64Array(n),
  };
}

const K_TRADE = EventKind.Trade;
const K_BBO = EventKind.BestBidOffer;
const F_END = Flag.MessageEnd;
const F_NO_EXCH = Flag.NoExchangeTime;

/** One chunk holding `chunks`' rows in order (null when there are none). */
function concat(chunks: MarketChunk[]): MarketChunk | null {
  if (chunks.length === 0) return null;
  if (chunks.length === 1) return chunks[0]!;
  const out = newChunk(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.kind.set(c.kind, at);
    out.side.set(c.side, at);
    out.flags.set(c.flags, at);
    out.price.set(c.price, at);
    out.size.set(c.size, at);
    out.exchNs.set(c.exchNs, at);
    out.localNs.set(c.localNs, at);
    out.pubNs.set(c.pubNs, at);
    at += c.length;
  }
  return out;
}

/** A row's channel: 0 trades, 1 best bid/offer, 2 the book (depth, snapshots, gaps). */
function channelOf(kind: number): number {
  return kind === K_TRADE ? 0 : kind === K_BBO ? 1 : 2;
}

/** The end (exclusive) of the message starting at row `i`: after its MessageEnd row, or at a change of channel. */
function messageEnd(c: MarketChunk, i: number): number {
  const ch = channelOf(c.kind[i]!);
  let j = i;
  while (j < c.length && channelOf(c.kind[j]!) === ch) {
    if (c.flags[j++]! & F_END) break;
  }
  return j;
}

/** effNs of every row: its message's exchange time, never before its channel's previous message (see the top). */
function setEffectTimes(c: MarketChunk, clock: ClockModel): void {
  const last = [-Infinity, -Infinity, -Infinity];
  let lastAny = -Infinity;
  for (let i = 0; i < c.length; ) {
    const end = messageEnd(c, i);
    const ch = channelOf(c.kind[i]!);
    let t = -Infinity;
    for (let j = i; j < end; j++) if (!(c.flags[j]! & F_NO_EXCH) && c.exchNs[j]! > t) t = c.exchNs[j]!;
    const channelLast = last[ch]!;
    if (t === -Infinity) {
      // A BBO without an exchange time (Binance spot bookTicker) was true at the latest when it was received,
      // in the exchange's clock: local - offset (offset = the lower envelope of local - publish time, so this
      // is never before the message left the exchange). Conservative: never earlier than it was true.
      if (ch === 1) t = clock.toExchangeNs(c.localNs[i]!);
      else t = channelLast > -Infinity ? channelLast : lastAny > -Infinity ? lastAny : c.localNs[i]!;
    }
    if (channelLast > t) t = channelLast;
    for (let j = i; j < end; j++) c.effNs[j] = t;
    last[ch] = t;
    if (t > lastAny) lastAny = t;
    i = end;
  }
}

/**
 * The rows of `c` (received order, effNs set) in exchange-time order: the trade and the book channel merged
 * message by message, by effect time, trades first at an equal time, then received order. Each channel keeps
 * its received order (its effNs never decrease) and a message's rows stay together, in their order.
 */
function exchangeTimeOrder(c: MarketChunk): MarketChunk {
  const out = newChunk(c.length);
  const nextOf = (i: number, ch: number): number => {
    while (i < c.length && channelOf(c.kind[i]!) !== ch) i = messageEnd(c, i);
    return i;
  };
  // Next message start per channel (0 trades, 1 BBO, 2 book): the earliest effect time goes first, at a tie
  // the lower channel (trades, then BBO, then book), so a depth message at the BBO's time resets it after.
  const at3 = [nextOf(0, 0), nextOf(0, 1), nextOf(0, 2)];
  let at = 0;
  for (;;) {
    let ch = -1;
    for (let k = 0; k < 3; k++) {
      const i = at3[k]!;
      if (i < c.length && (ch < 0 || c.effNs[i]! < c.effNs[at3[ch]!]!)) ch = k;
    }
    if (ch < 0) break;
    const i = at3[ch]!;
    const end = messageEnd(c, i);
    for (let j = i; j < end; j++, at++) {
      out.kind[at] = c.kind[j]!;
      out.side[at] = c.side[j]!;
      out.flags[at] = c.flags[j]!;
      out.price[at] = c.price[j]!;
      out.size[at] = c.size[j]!;
      out.effNs[at] = c.effNs[j]!;
      out.exchNs[at] = c.exchNs[j]!;
      out.localNs[at] = c.localNs[j]!;
      out.pubNs[at] = c.pubNs[j]!;
    }
    at3[ch] = nextOf(end, ch);
  }
  return out;
}
