// Plain data types shared by every part of Latency Lab: ids, event kinds, flags.
// The numeric values are part of the on-disk format (docs/dataset-format.md): never renumber them.

/**
 * The first entries of the `exchange` column's dictionary, in this order, so the datasets written so far keep
 * their bytes; the writer appends any other exchange id on first use. Which exchanges exist and what they
 * mean is the exchange registry's business (src/exchanges/registry.ts): here an exchange id is a string.
 */
export const EXCHANGES = [
  'binance-spot',
  'binance-usdm',
  'binance-coinm',
  'bybit-spot',
  'bybit-linear',
  'okx',
  'coinbase',
] as const;
export type ExchangeId = string;

/** What kind of instrument a stream trades. */
export const MARKET_TYPES = ['spot', 'linear', 'inverse', 'future', 'option'] as const;
export type MarketType = (typeof MARKET_TYPES)[number];

/** Event kinds, stored in the `kind` column (uint8). */
export const EventKind = {
  /** A trade print. `side` is the aggressor (taker) side. */
  Trade: 1,
  /** Set one price level's size; size 0 deletes the level. */
  BookLevel: 2,
  /** One level of a full book snapshot. The rows of one snapshot are contiguous; the first carries
   *  Flag.SnapshotBegin (the book is cleared before it), the last carries Flag.SnapshotEnd. */
  BookSnapshot: 3,
  /** Best bid or offer as published by the exchange: two rows, bid then ask, sharing id and times. */
  BestBidOffer: 4,
  /** The stream's sequence broke (or a checksum failed, or a diff arrived without a snapshot):
   *  the book is unknown until the next snapshot. `id` = the id received, `prev_id` = the last good id,
   *  `size` = a GapReason code. */
  Gap: 5,
  /** The recording connection dropped (or was closed on purpose). The book is unknown until a snapshot. */
  Disconnect: 6,
  /** The recording connection is up again. */
  Reconnect: 7,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export const EVENT_KIND_NAMES: Record<number, string> = {
  1: 'trade',
  2: 'book_level',
  3: 'book_snapshot',
  4: 'bbo',
  5: 'gap',
  6: 'disconnect',
  7: 'reconnect',
};

/** Why a gap marker was written (stored in `size` of a Gap row). */
export const GapReason = {
  /** An update id did not continue the previous one. */
  Sequence: 1,
  /** The exchange's book checksum did not match the rebuilt book. */
  Checksum: 2,
  /** Diffs arrived but no snapshot could bridge them (missing or too old). */
  NoSnapshot: 3,
  /** The rebuilt book crossed (best bid >= best ask) after a complete update. */
  Crossed: 4,
  /** Input lines could not be read (damaged file, malformed JSON): what they held is unknown. */
  BadInput: 5,
  /** The stream was restarted by the exchange (Bybit u=1, OKX seqId reset). */
  Reset: 6,
  /** The recorder could not write rows (disk full past its memory bound): what they held is lost. */
  NotWritten: 7,
} as const;
export type GapReason = (typeof GapReason)[keyof typeof GapReason];
export const GAP_REASON_NAMES: Record<number, string> = {
  1: 'sequence',
  2: 'checksum',
  3: 'no_snapshot',
  4: 'crossed',
  5: 'bad_input',
  6: 'reset',
  7: 'not_written',
};

/** `side` column (int8). For book rows the book side; for trades the aggressor side. */
export const Side = { Bid: 1, Ask: -1, None: 0 } as const;
export type Side = (typeof Side)[keyof typeof Side];
export const Buy = Side.Bid;
export const Sell = Side.Ask;

/** `flags` column (uint16), a bit set. */
export const Flag = {
  /** Last row produced from one exchange message: the book is consistent after this row. */
  MessageEnd: 1,
  SnapshotBegin: 2,
  SnapshotEnd: 4,
  /** The row came from a REST snapshot rather than the stream. */
  FromRest: 8,
  /** Trade: the exchange marked it as not from the order book (liquidation, ADL, insurance fund, block). */
  OffBook: 16,
  /** Trade id is not numeric at the exchange (Bybit UUIDs): `id` is -1, the raw table keeps it. */
  NonNumericId: 32,
  /** The message carries no exchange time (Binance spot bookTicker): `exch_ts` is the local time. */
  NoExchangeTime: 64,
  /** Book rows a live client buffered before its snapshot arrived: `local_ts` is when the snapshot
   *  let them be applied, not when they were received (the raw table has that). */
  Buffered: 128,
  /** Gap row: only trades were lost (the recorder rejected a trade frame). Books are not affected; the
   *  trade-id check counts the jump as explained. Readers older than this flag treat it as a full gap. */
  TradeGap: 256,
} as const;

/** One replayable stream: an exchange's symbol. Its index in the manifest's `streams` is the `stream` column. */
export interface StreamInfo {
  exchange: ExchangeId;
  market: MarketType;
  symbol: string;
}

export function streamKey(s: { exchange: string; symbol: string }): string {
  return `${s.exchange}:${s.symbol}`;
}

/** What a raw-table row records. */
export const RawKind = {
  /** A frame received from the exchange. */
  Received: 1,
  /** A frame the recorder sent (subscriptions). */
  Sent: 2,
  /** A REST response (order book snapshots). */
  Rest: 3,
  Connect: 4,
  Disconnect: 5,
} as const;
export type RawKind = (typeof RawKind)[keyof typeof RawKind];
export const RAW_KIND_NAMES: Record<number, string> = { 1: 'recv', 2: 'send', 3: 'rest', 4: 'connect', 5: 'disconnect' };
