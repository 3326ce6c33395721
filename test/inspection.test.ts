// The `dataset check` checkers one at a time (src/inspection/checkers/*), fed hand-made rows in memory the way
// inspect.ts's single pass feeds them. The whole report on datasets written to disk is in
// test/dataset-commands.test.ts.
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../src/data/reader.js';
import { EventKind, Flag, GapReason, Side } from '../src/data/types.js';
import { BookMessages } from '../src/inspection/book-messages.js';
import type { Checker } from '../src/inspection/checker.js';
import { ClockChecker } from '../src/inspection/checkers/clock.js';
import { CrossedBookChecker } from '../src/inspection/checkers/crossed-book.js';
import { SequenceChecker } from '../src/inspection/checkers/sequence.js';
import { StreamEventsChecker } from '../src/inspection/checkers/stream-events.js';
import { TimeOrderChecker } from '../src/inspection/checkers/time-order.js';
import type { DatasetHead } from '../src/inspection/format.js';

const { Trade, BookLevel: L, BookSnapshot: S, BestBidOffer: BBO, Gap, Disconnect, Reconnect } = EventKind;
const { MessageEnd: ME, SnapshotBegin: SB, SnapshotEnd: SE, FromRest, Buffered, NoExchangeTime } = Flag;
const BID = Side.Bid;
const ASK = Side.Ask;

type Row = [stream: number, localMs: number, exchMs: number, kind: number, side: number, price: number, size: number, id: bigint | number, prev: bigint | number, flags: number];

/** Two streams on two exchanges; times count from the epoch (origin 0). */
const HEAD: DatasetHead = {
  originNs: 0n,
  streams: [
    { exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' },
    { exchange: 'bybit-linear', market: 'linear', symbol: 'ETHUSDT' },
  ],
};

function batchOf(rows: Row[]): EventBatch {
  const n = rows.length;
  const b: EventBatch = {
    length: n,
    segment: 1,
    localTs: new BigInt64Array(n),
    exchTs: new BigInt64Array(n),
    localNs: new Float64Array(n),
    exchNs: new Float64Array(n),
    stream: new Uint16Array(n),
    kind: new Uint8Array(n),
    side: new Int8Array(n),
    price: new Float64Array(n),
    size: new Float64Array(n),
    id: new BigInt64Array(n),
    prevId: new BigInt64Array(n),
    flags: new Uint16Array(n),
    publishTs: new BigInt64Array(0),
    pubNs: new Float64Array(0),
    hasPublishTs: false,
  };
  // A batch without the publish_ts column reads its exchange time as the publish time.
  b.publishTs = b.exchTs;
  b.pubNs = b.exchNs;
  rows.forEach(([s, l, e, kind, side, price, size, id, prev, flags], i) => {
    b.localTs[i] = BigInt(l) * 1_000_000n;
    b.exchTs[i] = BigInt(e) * 1_000_000n;
    b.localNs[i] = l * 1e6;
    b.exchNs[i] = e * 1e6;
    b.stream[i] = s;
    b.kind[i] = kind;
    b.side[i] = side;
    b.price[i] = price;
    b.size[i] = size;
    b.id[i] = BigInt(id);
    b.prevId[i] = BigInt(prev);
    b.flags[i] = flags;
  });
  return b;
}

/** The single pass of inspect.ts over one batch, for the checkers given (the message tracker first). */
function pass<P>(rows: Row[], checker: Checker<P>, messages?: BookMessages): P {
  const b = batchOf(rows);
  for (let i = 0; i < b.length; i++) {
    if (messages && b.stream[i]! < HEAD.streams.length) messages.onRow(b, i);
    checker.onRow(b, i, i);
  }
  return checker.finish();
}

describe('BookMessages', () => {
  it('groups level rows by id and prev_id; a snapshot row and a row without ids always start a message', () => {
    const m = new BookMessages(2);
    const b = batchOf([
      [0, 1, 1, S, BID, 100, 1, 10, -1, SB],
      [0, 1, 1, S, ASK, 101, 1, 10, -1, SE | ME],
      [0, 2, 2, L, BID, 100, 2, 11, 10, 0],
      [0, 2, 2, L, ASK, 101, 2, 11, 10, ME],
      [1, 2, 2, L, ASK, 201, 2, 11, 10, ME], // the other stream: its own message
      [0, 3, 3, Trade, BID, 100, 1, 900, -1, ME],
      [0, 4, 4, L, BID, 99, 1, -1, -1, 0],
      [0, 4, 4, L, ASK, 102, 1, -1, -1, ME],
      [0, 5, 5, L, BID, 99, 3, 12, 11, ME],
    ]);
    const starts: boolean[] = [];
    const previous: (string | null)[] = [];
    for (let i = 0; i < b.length; i++) {
      m.onRow(b, i);
      starts.push(m.startsMessage);
      previous.push(m.startsMessage && m.hadPrevious ? String(m.previousIdLo) : null);
    }
    expect(starts).toEqual([true, true, true, false, true, false, true, true, true]);
    // Row 8 follows messages without ids: the stream has no previous id to chain to.
    expect(previous).toEqual([null, '10', '10', null, null, null, '11', null, null]);
  });
});

describe('SequenceChecker', () => {
  it('counts checked messages and breaks; the next book message leaves a break unexplained', () => {
    const m = new BookMessages(2);
    const rows: Row[] = [
      [0, 1, 1, S, BID, 100, 1, 10, -1, SB],
      [0, 1, 1, S, ASK, 101, 1, 10, -1, SE | ME],
      [0, 2, 2, L, BID, 100, 2, 11, 10, 0], // after reset (a snapshot)
      [0, 2, 2, L, ASK, 101, 2, 11, 10, ME],
      [0, 3, 3, L, BID, 100, 3, 13, 12, ME], // break: expected prev 11
      [0, 4, 4, Trade, BID, 100, 1, 900, -1, ME], // not a book message: the break still waits
      [0, 5, 5, L, BID, 100, 4, 14, 13, ME], // the next book message: the break stays unexplained
    ];
    const report = pass(rows, new SequenceChecker(HEAD, m), m);
    expect(report.chain[0]).toEqual({
      messages_checked: 2,
      messages_after_reset: 1,
      messages_without_ids: 0,
      breaks: 1,
      explained_by_marker: 0,
      unexplained: 1,
      examples: [{ row: 4, local_ts_ns: '3000000', local_ts: '1970-01-01T00:00:00.003000000Z', id: '13', prev_id: '12', expected_prev_id: '11', explained: false }],
    });
    expect(report.findings[0]).toEqual({ errors: ['binance-usdm BTCUSDT: 1 sequence break(s) that no gap marker explains'], notes: [] });
    expect(report.findings[1]).toEqual({ errors: [], notes: [] });
  });

  it('a disconnect marker explains a break and restarts the chain; ids above 2^32 are compared whole', () => {
    const big = 4_294_967_296n; // 2^32
    const m = new BookMessages(2);
    const report = pass(
      [
        [0, 1, 1, S, BID, 100, 1, big + 5n, -1, SB | SE | ME],
        [0, 2, 2, L, BID, 100, 2, big + 6n, big + 5n, ME], // after the snapshot: not compared
        [0, 3, 3, L, BID, 100, 2, 2n * big + 7n, 2n * big + 6n, ME], // break: expected big + 6, same low word
        [0, 4, 4, Disconnect, 0, NaN, 0, -1, -1, ME],
        [0, 5, 5, L, BID, 100, 3, big + 20n, big + 19n, ME], // after the marker: not compared
        [0, 6, 6, L, BID, 100, 3, 2n * big + 21n, big + 20n, ME], // chains
      ],
      new SequenceChecker(HEAD, m),
      m,
    );
    expect(report.chain[0]).toMatchObject({ messages_checked: 2, messages_after_reset: 2, breaks: 1, explained_by_marker: 1, unexplained: 0 });
    expect(report.chain[0]!.examples).toEqual([
      { row: 2, local_ts_ns: '3000000', local_ts: '1970-01-01T00:00:00.003000000Z', id: '8589934599', prev_id: '8589934598', expected_prev_id: '4294967302', explained: true },
    ]);
    expect(report.findings[0]).toEqual({ errors: [], notes: ['binance-usdm BTCUSDT: 1 sequence break(s) followed by a gap marker'] });
  });

  it('counts messages without ids at their MessageEnd row and does not compare them', () => {
    const m = new BookMessages(2);
    const report = pass(
      [
        [1, 1, 1, S, BID, 100, 1, -1, -1, SB | SE | ME],
        [1, 2, 2, L, BID, 100, 2, -1, -1, 0],
        [1, 2, 2, L, ASK, 101, 2, -1, -1, ME],
        [1, 3, 3, L, BID, 100, 3, -1, -1, ME],
      ],
      new SequenceChecker(HEAD, m),
      m,
    );
    expect(report.chain[1]).toMatchObject({ messages_checked: 0, messages_after_reset: 0, messages_without_ids: 2, breaks: 0 });
  });
});

describe('CrossedBookChecker', () => {
  it('counts crossed messages and episodes of a valid book; a gap marker after one marks it', () => {
    const m = new BookMessages(2);
    const report = pass(
      [
        [0, 1, 1, L, BID, 105, 1, 9, 8, ME], // no snapshot yet: the book is not valid, never "crossed"
        [0, 2, 2, S, BID, 100, 1, 10, -1, SB],
        [0, 2, 2, S, ASK, 101, 1, 10, -1, SE | ME],
        [0, 3, 3, L, BID, 101, 1, 11, 10, ME], // crossed (101 >= 101): episode 1 ...
        [0, 4, 4, L, BID, 102, 1, 12, 11, ME], // ... still crossed, unmarked (a book message came next)
        [0, 5, 5, L, BID, 101, 0, 13, 12, 0],
        [0, 5, 5, L, BID, 102, 0, 13, 12, ME], // uncrossed: bid 100
        [0, 6, 6, L, ASK, 99, 1, 14, 13, ME], // crossed again: episode 2 ...
        [0, 6, 6, Gap, 0, NaN, GapReason.Crossed, 14, 14, ME], // ... marked
      ],
      new CrossedBookChecker(HEAD, m),
      m,
    );
    expect(report.crossed[0]).toEqual({
      messages: 3,
      episodes: 2,
      marked: 1,
      unmarked: 2,
      examples: [
        { row: 3, exch_ts_ns: '3000000', exch_ts: '1970-01-01T00:00:00.003000000Z', best_bid: 101, best_ask: 101, marked: false },
        { row: 4, exch_ts_ns: '4000000', exch_ts: '1970-01-01T00:00:00.004000000Z', best_bid: 102, best_ask: 101, marked: false },
        { row: 7, exch_ts_ns: '6000000', exch_ts: '1970-01-01T00:00:00.006000000Z', best_bid: 100, best_ask: 99, marked: true },
      ],
    });
    expect(report.findings[0]).toEqual({
      errors: ['binance-usdm BTCUSDT: book crossed after 2 message(s) with no gap marker after them'],
      notes: ['binance-usdm BTCUSDT: book crossed after 1 message(s) followed by a gap marker'],
    });
  });
});

describe('StreamEventsChecker', () => {
  it('counts rows, snapshots begun, gaps by reason name, disconnects and reconnects per stream', () => {
    const report = pass(
      [
        [0, 1, 1, S, BID, 100, 1, 10, -1, SB],
        [0, 1, 1, S, ASK, 101, 1, 10, -1, SE | ME],
        [0, 2, 2, Gap, 0, NaN, GapReason.Sequence, 12, 10, ME],
        [0, 3, 3, Gap, 0, NaN, 99, 13, 12, ME], // a reason this version does not name
        [0, 4, 4, Disconnect, 0, NaN, 0, -1, -1, ME],
        [0, 5, 5, Reconnect, 0, NaN, 0, -1, -1, ME],
        [0, 6, 6, S, BID, 100, 1, 20, -1, SB | SE | ME],
        [1, 6, 6, Trade, BID, 100, 1, 1, -1, ME],
        [7, 6, 6, Trade, BID, 100, 1, 1, -1, ME], // a stream the manifest does not list: skipped
      ],
      new StreamEventsChecker(HEAD),
    );
    expect(report.counts).toEqual([
      { rows: 7, snapshots: 2, gaps: { total: 2, by_reason: { sequence: 1, reason_99: 1 } }, disconnects: 1, reconnects: 1 },
      { rows: 1, snapshots: 0, gaps: { total: 0, by_reason: {} }, disconnects: 0, reconnects: 0 },
    ]);
    expect(report.findings[0]!.notes).toEqual(['binance-usdm BTCUSDT: 2 gap marker(s) (1 sequence, 1 reason_99)']);
  });
});

describe('TimeOrderChecker', () => {
  it('counts local_ts going back over every row (5 examples at most) and exch_ts going back per stream and kind', () => {
    const rows: Row[] = [];
    // local: 10, 9, 10, 9, ... : 6 steps back of 1 ms, one of them on an unlisted stream (a 7th below).
    for (let k = 0; k < 6; k++) {
      rows.push([0, 10, 100 + k, Trade, BID, 1, 1, k, -1, ME]);
      rows.push([k === 5 ? 7 : 0, 9, 100 + k, Trade, BID, 1, 1, k, -1, ME]);
    }
    rows.push([0, 20, 90, BBO, BID, 1, 1, 1, -1, 0]); // exch back 15 ms (from 105) within the stream, first BBO
    rows.push([0, 21, 80, BBO, ASK, 1, 1, 1, -1, ME]); // back 10 ms, within the stream and among BBO rows
    rows.push([0, 22, 50, Trade, BID, 1, 1, 9, -1, ME | NoExchangeTime]); // no exchange time: not compared
    rows.push([7, 30, 106, Trade, BID, 1, 1, 10, -1, ME]); // an unlisted stream's row sets the local time ...
    rows.push([0, 29, 106, Trade, BID, 1, 1, 11, -1, ME]); // ... that this one goes back from: the 7th
    const report = pass(rows, new TimeOrderChecker(HEAD));
    expect(report.local_ts_order.decreases).toBe(7);
    expect(report.local_ts_order.max_step_back_ms).toBe(1);
    expect(report.local_ts_order.examples.map((e) => e.row)).toEqual([1, 3, 5, 7, 9]);
    expect(report.local_ts_order.examples[0]).toEqual({ row: 1, local_ts_ns: '9000000', local_ts: '1970-01-01T00:00:00.009000000Z', prev_local_ts_ns: '10000000', step_back_ms: 1 });
    // Trades of stream 0 at exch 100, 100, 101, 101, ..., 105 (the 6th pair's second row is unlisted): never back.
    expect(report.exch_ts_order[0]).toEqual({
      decreases: 2,
      max_step_back_ms: 15,
      by_kind: { trade: { decreases: 0, max_step_back_ms: 0 }, bbo: { decreases: 1, max_step_back_ms: 10 } },
    });
    expect(report.notes).toEqual(['local_ts goes back 7 time(s) in file order (by up to 1 ms)']);
    expect(report.findings[0]!.notes).toEqual([
      'binance-usdm BTCUSDT: exch_ts goes back 2 time(s) between rows of the stream (by up to 15 ms; normal where channels interleave)',
    ]);
  });
});

describe('ClockChecker', () => {
  it('takes local - exch at message ends of measured rows; the minimum per exchange is its clock offset', () => {
    const report = pass(
      [
        [0, 1000, 1100, Trade, BID, 1, 1, 1, -1, ME], // -100
        [0, 1010, 1105, L, BID, 1, 1, 2, 1, 0], // not a message end
        [0, 1010, 1105, L, BID, 1, 1, 2, 1, ME], // -95
        [0, 1020, 1000, L, BID, 1, 1, 3, 2, ME | Buffered], // buffered: left out
        [0, 1030, 1000, S, BID, 1, 1, 4, -1, SB | SE | ME | FromRest], // REST: left out
        [0, 1040, 1000, Trade, BID, 1, 1, 5, -1, ME | NoExchangeTime], // no exchange time: left out
        [0, 1050, 1000, Gap, 0, NaN, 1, 6, 5, ME], // not a market-data kind: left out
        [1, 1000, 940, BBO, BID, 1, 1, 1, -1, 0],
        [1, 1000, 940, BBO, ASK, 1, 1, 1, -1, ME], // +60
        [1, 1010, 930, Trade, ASK, 1, 1, 2, -1, ME], // +80
      ],
      new ClockChecker(HEAD),
    );
    expect(report.latency_ms[0]).toEqual({
      samples: 2,
      min: -100,
      p50: -100,
      p90: -95,
      p99: -95,
      max: -95,
      mean: -97.5,
      by_kind: {
        trade: { samples: 1, min: -100, p50: -100, p90: -100, p99: -100, max: -100, mean: -100 },
        book_level: { samples: 1, min: -95, p50: -95, p90: -95, p99: -95, max: -95, mean: -95 },
      },
    });
    expect(report.exchanges.map((e) => [e.exchange, e.clock_offset_ms, e.local_clock, e.latency_after_offset_ms.max])).toEqual([
      ['binance-usdm', -100, 'behind', 5],
      ['bybit-linear', 60, 'ahead', 20],
    ]);
    expect(report.notes).toEqual([
      'local clock is about 100 ms behind binance-usdm exchange time',
      'local clock is about 60 ms ahead of bybit-linear exchange time (or no message arrived faster than 60 ms)',
      'recorder clock (one model for all streams, against exch_ts): offset -100.000 ms → -100.000 ms, drift +0.00 ms/h (1 window of 10 s)',
    ]);
    // one model for the recorder over both exchanges' measuring rows (every row above but the four left out,
    // message end or not): the smallest local - exch, -100 ms
    expect(report.recorder_clock).toEqual({
      basis: 'exch_ts',
      samples: 6,
      window_s: 10,
      windows: 1,
      offset_first_ms: -100,
      offset_last_ms: -100,
      offset_min_ms: -100,
      offset_max_ms: -100,
      drift_ms_per_hour: 0,
    });
  });

  it('recorder clock: offsets of windows an hour apart give the drift per hour', () => {
    const report = pass(
      [
        [0, 5_000, 5_100, Trade, BID, 1, 1, 1, -1, ME], // -100 ms in the window 0-10 s (knot at 5 s)
        [1, 3_605_000, 3_605_103, Trade, BID, 1, 1, 2, -1, ME], // -103 ms in the window 3600-3610 s (knot at 3605 s)
      ],
      new ClockChecker(HEAD),
    );
    expect(report.recorder_clock).toEqual({
      basis: 'exch_ts',
      samples: 2,
      window_s: 10,
      windows: 2,
      offset_first_ms: -100,
      offset_last_ms: -103,
      offset_min_ms: -103,
      offset_max_ms: -100,
      drift_ms_per_hour: -3,
    });
  });

  it('says "within_50ms" at 50 ms, and "unknown" for an exchange without samples', () => {
    const report = pass([[0, 1050, 1000, Trade, BID, 1, 1, 1, -1, ME]], new ClockChecker(HEAD));
    expect(report.exchanges.map((e) => [e.exchange, e.clock_offset_ms, e.local_clock, e.note])).toEqual([
      ['binance-usdm', 50, 'within_50ms', null],
      ['bybit-linear', null, 'unknown', null],
    ]);
    expect(report.notes).toEqual(['recorder clock (one model for all streams, against exch_ts): offset 50.000 ms → 50.000 ms, drift +0.00 ms/h (1 window of 10 s)']);
  });
});
