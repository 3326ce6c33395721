// What `latencylab dataset book` computes: the book of one stream at an exchange time, as a plain object (the
// --json output, documented in docs/cli.md). The CLI only formats it.
import { openDataset, type EventBatch, type ReadProblem } from '../data/reader.js';
import { EventKind, Flag, GAP_REASON_NAMES } from '../data/types.js';
import { formatTimeNs } from '../data/time.js';
import { BookBuilder } from '../book/book-builder.js';
import type { OrderBook } from '../book/order-book.js';
import { isoText, streamLabel } from './format.js';

/** Turns a sentinel error thrown from inside a scan into an early stop. */
class StopScan extends Error {
  constructor() {
    super('scan stopped early');
  }
}


export interface BookLevelOut {
  price: number;
  size: number;
}

export interface BookAt {
  dir: string;
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  at_ns: string;
  at: string;
  /** A complete snapshot was applied and no gap or disconnect happened after it (up to `at`). */
  valid: boolean;
  /** Why the book is not valid (null when it is). */
  invalid_reason: string | null;
  /** The last applied book row carried Flag.MessageEnd (always true unless the data ends mid-message). */
  message_complete: boolean;
  crossed: boolean;
  best_bid: number | null;
  best_ask: number | null;
  spread: number | null;
  mid: number | null;
  bid_levels: number;
  ask_levels: number;
  depth: number;
  bids: BookLevelOut[];
  asks: BookLevelOut[];
  /** The last book row (level or snapshot) applied. */
  last_update: {
    id: string;
    row: number;
    exch_ts_ns: string;
    exch_ts: string;
    local_ts_ns: string;
    local_ts: string;
  } | null;
  /** Book rows (levels, snapshot rows) of the stream read before the walk stopped (level rows between a gap and the next snapshot are read but ignored). */
  book_rows_read: number;
  problems: ReadProblem[];
}

/** Digits after the decimal point in the shortest text of `x` (at most 12). */
function decimals(x: number): number {
  const t = String(x);
  const e = /e-(\d+)$/.exec(t);
  if (e) return Math.min(12, Number(e[1]) + (t.split('e')[0]!.split('.')[1]?.length ?? 0));
  return Math.min(12, t.split('.')[1]?.length ?? 0);
}

function levelsOf(book: OrderBook, side: 'bids' | 'asks', depth: number): BookLevelOut[] {
  return book[side].levels(depth).map(([price, size]) => ({ price, size }));
}

/**
 * The stream's book as the exchange had it at exchange time `atNs`.
 *
 * Rule: walk the stream's rows in file order and apply every book row (BookLevel, BookSnapshot) and every
 * Gap/Disconnect marker, stopping at the first such row whose exch_ts is later than `atNs`. A marker flagged
 * NoExchangeTime (its exch_ts is a local time, which may be far from the exchange's clock) never stops the
 * walk: it takes effect right after the row before it in file order, so after a disconnect the book is not
 * valid from the last update received until the next snapshot (conservative: the exchange may have changed
 * the book any time after that update). Gap rows flagged TradeGap are not book markers. Trades, BBO and Reconnect rows neither change the book nor stop
 * the walk (their exchange times interleave with the book channel's). All rows of one message share exch_ts,
 * so the walk never stops inside a message; and one stream's book updates come from one sequenced channel
 * whose exchange times do not go back, so no update at or before `atNs` is left out.
 *
 * Throws (naming the stream) when the dataset has no such stream, or `atNs` is before the stream's first
 * exch_ts or after its last one.
 */
export function bookAt(dir: string, exchange: string, symbol: string, atNs: bigint, depth = 10): BookAt {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`depth must be a positive integer, got ${depth}`);
  const ds = openDataset(dir);
  const s = ds.findStream(exchange, symbol);
  const st = ds.streams[s]!;
  const label = streamLabel(st);
  const builder = new BookBuilder(ds.streams.length);
  const at = Number(atNs - ds.originNs);
  let minExch = Infinity;
  let maxExch = -Infinity;
  let bookRowsRead = 0;
  let last: BookAt['last_update'] = null;
  let lastComplete = true;
  let invalidWhy = 'no snapshot of this stream at or before this time';
  let stopped = false;
  let rowBase = 0;

  const rememberLast = (b: EventBatch, i: number) => {
    last = {
      id: b.id[i]!.toString(),
      row: rowBase + i,
      exch_ts_ns: b.exchTs[i]!.toString(),
      exch_ts: formatTimeNs(b.exchTs[i]!),
      local_ts_ns: b.localTs[i]!.toString(),
      local_ts: formatTimeNs(b.localTs[i]!),
    };
  };

  try {
    ds.forEachEventBatch((b) => {
      const n = b.length;
      let lastIdx = -1;
      for (let i = 0; i < n; i++) {
        if (b.stream[i] !== s) continue;
        const e = b.exchNs[i]!;
        if (e < minExch) minExch = e;
        if (e > maxExch) maxExch = e;
        const kind = b.kind[i]!;
        const flags = b.flags[i]!;
        const isBook = kind === EventKind.BookLevel || kind === EventKind.BookSnapshot;
        // A TradeGap row marks lost trades only: no book marker.
        const isMarker = (kind === EventKind.Gap && (flags & Flag.TradeGap) === 0) || kind === EventKind.Disconnect;
        if (!isBook && !isMarker) continue;
        // A marker without an exchange time (a disconnect, a rejected frame) carries the local time in exch_ts,
        // which says nothing about the exchange's clock: it takes effect right after the row before it in file
        // order, and never stops the walk.
        const timeless = isMarker && (flags & Flag.NoExchangeTime) !== 0;
        if (!timeless && e > at) {
          stopped = true;
          if (lastIdx >= 0) rememberLast(b, lastIdx);
          throw new StopScan();
        }
        builder.apply(b, i);
        if (isBook) {
          bookRowsRead++;
          lastIdx = i;
          lastComplete = (b.flags[i]! & Flag.MessageEnd) !== 0;
          if (kind === EventKind.BookSnapshot && b.flags[i]! & Flag.SnapshotBegin) {
            invalidWhy = `the snapshot begun at exchange time ${formatTimeNs(b.exchTs[i]!)} (row ${rowBase + i}) is incomplete at this time`;
          }
        } else {
          const what = kind === EventKind.Gap ? `gap marker (${GAP_REASON_NAMES[b.size[i]!] ?? `reason ${b.size[i]}`})` : 'disconnect marker';
          const when = timeless ? `without exchange time (local time ${formatTimeNs(b.localTs[i]!)})` : `at exchange time ${formatTimeNs(b.exchTs[i]!)}`;
          invalidWhy = `${what} ${when} (row ${rowBase + i}), and no snapshot after it up to this time`;
        }
      }
      if (lastIdx >= 0) rememberLast(b, lastIdx);
      rowBase += n;
    });
  } catch (e) {
    if (!(e instanceof StopScan)) throw e;
  }

  if (minExch === Infinity) throw new Error(`stream ${label} has no events in ${dir}`);
  if (at < minExch) {
    throw new Error(
      `${formatTimeNs(atNs)} is before the first event of stream ${label} (exchange time ${isoText(ds, minExch)}) in ${dir}`,
    );
  }
  if (!stopped && at > maxExch) {
    throw new Error(
      `${formatTimeNs(atNs)} is after the last event of stream ${label} (exchange time ${isoText(ds, maxExch)}) in ${dir}`,
    );
  }

  const book = builder.book(s);
  const valid = builder.isValid(s);
  const invalidReason = valid ? null : invalidWhy;
  const bb = book.bestBid();
  const ba = book.bestAsk();
  const both = !Number.isNaN(bb) && !Number.isNaN(ba);
  // Spread and mid rounded to the prices' own decimals (+1 for the mid), so float noise does not show.
  const dec = both ? Math.max(decimals(bb), decimals(ba)) : 0;
  return {
    dir,
    stream: s,
    exchange: st.exchange,
    market: st.market,
    symbol: st.symbol,
    at_ns: atNs.toString(),
    at: formatTimeNs(atNs),
    valid,
    invalid_reason: invalidReason,
    message_complete: lastComplete,
    crossed: book.isCrossed(),
    best_bid: Number.isNaN(bb) ? null : bb,
    best_ask: Number.isNaN(ba) ? null : ba,
    spread: both ? +(ba - bb).toFixed(dec) : null,
    mid: both ? +((ba + bb) / 2).toFixed(dec + 1) : null,
    bid_levels: book.bids.count,
    ask_levels: book.asks.count,
    depth,
    bids: levelsOf(book, 'bids', depth),
    asks: levelsOf(book, 'asks', depth),
    last_update: last,
    book_rows_read: bookRowsRead,
    problems: [...ds.problems],
  };
}
