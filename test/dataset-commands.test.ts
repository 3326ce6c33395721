// A user inspects a dataset: `dataset info`, `dataset check` and `dataset book`, on small hand-built datasets
// whose every number is known, through the functions and through the real CLI.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { bookAt } from '../src/inspection/book-at.js';
import { datasetInfo } from '../src/inspection/dataset-info.js';
import { formatInfo } from '../src/cli/dataset-commands.js';
import { checkDataset } from '../src/inspection/inspect.js';
import { Histogram } from '../src/data/histogram.js';
import { openDataset } from '../src/data/reader.js';
import { BookBuilder } from '../src/book/book-builder.js';
import { EventKind, Flag, GapReason, RawKind, Side } from '../src/data/types.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const T0 = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z
const ms = (x: number) => T0 + BigInt(Math.round(x * 1e6));
const iso = (x: number) => {
  const n = ms(x) - T0;
  const sec = 20n + n / 1_000_000_000n;
  return `2023-11-14T22:13:${String(sec).padStart(2, '0')}.${String(n % 1_000_000_000n).padStart(9, '0')}Z`;
};

const { Trade, BookLevel: L, BookSnapshot: S, BestBidOffer: BBO, Gap } = EventKind;
const { MessageEnd: ME, SnapshotBegin: SB, SnapshotEnd: SE, FromRest, NoExchangeTime } = Flag;
const BID = Side.Bid;
const ASK = Side.Ask;

type Row = [stream: number, localMs: number, exchMs: number, kind: number, side: number, price: number, size: number, id: number, prev: number, flags: number];

/**
 * Stream 0 (binance-usdm BTCUSDT): the local clock is ~1000 ms behind; a REST snapshot and deltas, a sequence
 * break with no marker, a crossed book with no marker, local time going back, trades out of exchange-time
 * order, a gap marker, a level row before the next snapshot, a crossed book the importer marked.
 * Stream 1 (bybit-linear ETHUSDT): clean, 2-6 ms latency, a BBO pair and a NoExchangeTime trade.
 */
const ROWS_A: Row[] = [
  [0, 5, 1000, S, BID, 100, 1, 100, -1, SB | FromRest], // row 0
  [0, 5, 1000, S, BID, 99, 2, 100, -1, FromRest],
  [0, 5, 1000, S, ASK, 101, 1, 100, -1, FromRest],
  [0, 5, 1000, S, ASK, 102, 3, 100, -1, SE | ME | FromRest],
  [1, 10, 8, S, BID, 2000, 1, 500, -1, SB], // row 4
  [1, 10, 8, S, ASK, 2001, 2, 500, -1, SE | ME],
  [0, 12, 1010, L, BID, 100, 3, 101, 100, 0], // row 6
  [0, 12, 1010, L, ASK, 101, 0, 101, 100, ME],
  [1, 24, 20, L, ASK, 2001, 5, 501, 500, ME], // row 8
  [0, 25, 1020, L, BID, 99.5, 1, 102, 101, ME], // row 9
  [0, 30, 1025, Trade, BID, 102, 0.5, 9001, -1, ME], // row 10
  [0, 34, 1030, L, ASK, 103, 1, 105, 103, ME], // row 11: break, expected prev 102
  [1, 46, 40, L, BID, 2000.5, 1, 502, 501, ME], // row 12
  [1, 47, 41, BBO, BID, 2000.5, 1, 77, -1, 0], // row 13
  [1, 47, 41, BBO, ASK, 2001, 5, 77, -1, ME],
  [0, 50, 1040, L, BID, 102.5, 1, 106, 105, ME], // row 15: crossed (102.5 >= 102), no marker
  [0, 48, 1050, L, BID, 102.5, 0, 107, 106, ME], // row 16: local time 2 ms back
  [0, 60, 1045, Trade, ASK, 101.5, 1, 9002, -1, ME], // row 17: exch 5 ms back within the stream
  [0, 61, 1044, Trade, ASK, 101.5, 1, 9003, -1, ME], // row 18: exch 1 ms back, also among trades
  [0, 70, 1060, Gap, 0, NaN, GapReason.Sequence, 110, 107, ME], // row 19
  [0, 75, 1070, L, BID, 90, 1, 111, 110, ME], // row 20: book unknown, ignored
  [1, 80, 80, Trade, BID, 2001, 1, 3001, -1, ME | NoExchangeTime], // row 21
  [1, 100, 97, Trade, ASK, 2000.5, 2, 3002, -1, ME], // row 22
  [0, 105, 1100, S, BID, 100, 1, 120, -1, SB], // row 23
  [0, 105, 1100, S, ASK, 101, 1, 120, -1, SE | ME],
  [0, 115, 1110, L, BID, 100, 4, 121, 120, ME], // row 25
  [0, 130, 1120, L, BID, 101, 1, 122, 121, ME], // row 26: crossed (101 >= 101) ...
  [0, 130, 1120, Gap, 0, NaN, GapReason.Crossed, 122, 122, ME], // row 27: ... and marked
];

function writeDataset(dir: string, rows: Row[], opts: { batchRows?: number } = {}): void {
  const w = new DatasetWriter(dir, { batchRows: opts.batchRows, source: { importer: 'test' } });
  const s0 = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
  const s1 = w.stream({ exchange: 'bybit-linear', market: 'linear', symbol: 'ETHUSDT' });
  expect([s0, s1]).toEqual([0, 1]);
  w.rawMessage(ms(5), 'binance-usdm', 'rest', 1, RawKind.Rest, '{"lastUpdateId":100}');
  w.rawMessage(ms(10), 'bybit-linear', 'ws', 1, RawKind.Received, '{"type":"snapshot"}');
  w.rawMessage(ms(12), 'binance-usdm', 'ws', 2, RawKind.Received, '{"u":101}');
  w.rawMessage(ms(24), 'bybit-linear', 'ws', 3, RawKind.Received, '{"u":501}');
  w.rawMessage(ms(25), 'binance-usdm', 'ws', 4, RawKind.Received, '{"u":102}');
  for (const [s, l, e, kind, side, price, size, id, prev, flags] of rows) {
    w.event(s, ms(l), ms(e), kind, side, price, size, BigInt(id), BigInt(prev), flags);
  }
  w.close();
}

/** The clean bybit stream alone, two rows per batch. */
const ROWS_B: Row[] = ROWS_A.filter((r) => r[0] === 1);

let dirA = '';
let dirB = '';
let dirCut = '';

beforeAll(() => {
  const base = tempDir('latencylab-dataset-');
  dirA = path.join(base, 'a');
  writeDataset(dirA, ROWS_A);
  dirB = path.join(base, 'b');
  writeDataset(dirB, ROWS_B, { batchRows: 2 });
  // A writer killed mid-write: the copy's events file loses its last 40 bytes (end marker and part of a batch).
  dirCut = path.join(base, 'cut');
  fs.cpSync(dirB, dirCut, { recursive: true });
  const f = path.join(dirCut, 'events-000001.arrow');
  fs.truncateSync(f, fs.statSync(f).size - 40);
  // Such a writer last wrote the manifest before the cut batch (manifest rows never exceed the rows on
  // disk; a manifest listing more is damage, test/dataset-damage.test.ts) and had not closed the segment.
  const m = JSON.parse(fs.readFileSync(path.join(dirCut, 'manifest.json'), 'utf8'));
  m.segments[0].rows = 6;
  m.segments[0].closed = false;
  fs.writeFileSync(path.join(dirCut, 'manifest.json'), JSON.stringify(m));
});

describe('BookBuilder', () => {
  it('rebuilds books per stream: snapshot clears, levels set, gap invalidates until the next snapshot', () => {
    const ds = openDataset(dirA);
    const bb = new BookBuilder(ds.streams.length);
    const seen: string[] = [];
    let row = 0;
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++, row++) {
        bb.apply(b, i);
        if (row === 10) seen.push(`r10 ${bb.isValid(0)} ${bb.book(0).bids.levels().join('|')} / ${bb.book(0).asks.levels().join('|')}`);
        if (row === 20) seen.push(`r20 ${bb.isValid(0)} ${bb.book(0).bids.count} ${bb.book(0).asks.count}`);
        if (row === 23) seen.push(`r23 ${bb.isValid(0)} ${bb.book(0).bids.levels().join('|')}`);
        if (row === 25) seen.push(`r25 ${bb.isValid(0)} ${bb.book(0).bids.levels().join('|')} / ${bb.book(0).asks.levels().join('|')}`);
      }
    });
    expect(seen).toEqual([
      'r10 true 100,3|99.5,1|99,2 / 102,3',
      'r20 false 0 0', // the level row after the gap is ignored
      'r23 false 100,1', // snapshot begun, not complete
      'r25 true 100,4 / 101,1',
    ]);
    expect(bb.isValid(0)).toBe(false); // the last row is a gap marker
    expect(bb.isValid(1)).toBe(true);
    expect(bb.book(1).bids.levels()).toEqual([
      [2000.5, 1],
      [2000, 1],
    ]);
    expect(bb.book(1).asks.levels()).toEqual([[2001, 5]]);
  });

  it('treats an empty snapshot (one row, NaN price, size 0) as a valid empty book', () => {
    const dir = path.join(tempDir(), 'empty');
    writeDataset(dir, [
      [0, 1, 1, S, BID, 100, 1, 1, -1, SB | SE | ME],
      [0, 2, 2, S, 0, NaN, 0, 2, -1, SB | SE | ME],
    ]);
    const ds = openDataset(dir);
    const bb = new BookBuilder(2);
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) bb.apply(b, i);
    });
    expect(bb.isValid(0)).toBe(true);
    expect(bb.book(0).bids.count + bb.book(0).asks.count).toBe(0);
  });
});

describe('Histogram', () => {
  it('gives nearest-rank percentiles, exact for repeated values, around any origin', () => {
    const h = new Histogram(-1002);
    for (const v of [-998, -995, -995, -996, -990, -1002, -985, -983, -995, -995, -995, -990]) h.add(v);
    expect(h.summary()).toEqual({ count: 12, min: -1002, max: -983, mean: -993.25, p50: -995, p90: -985, p99: -983 });
    const g = new Histogram();
    for (let i = 1; i <= 1000; i++) g.add(i / 10); // 0.1 .. 100 ms
    expect(g.percentile(50)).toBeCloseTo(50, 0);
    expect(Math.abs(g.percentile(50) - 50) / 50).toBeLessThan(0.005);
    expect(Math.abs(g.percentile(99) - 99) / 99).toBeLessThan(0.005);
    expect(g.percentile(100)).toBe(100);
  });
});

describe('datasetInfo', () => {
  it('counts rows by kind and stream, spans local and exchange time, sizes the files', () => {
    const info = datasetInfo(dirA);
    expect(info.exchanges).toEqual(['binance-usdm', 'bybit-linear']);
    expect(info.rows).toBe(28);
    expect(info.counts).toEqual({ trade: 5, book_level: 11, book_snapshot: 8, bbo: 2, gap: 2 });
    expect(info.streams.map((s) => [s.exchange, s.market, s.symbol, s.rows, s.counts])).toEqual([
      ['binance-usdm', 'linear', 'BTCUSDT', 20, { trade: 3, book_level: 9, book_snapshot: 6, gap: 2 }],
      ['bybit-linear', 'linear', 'ETHUSDT', 8, { trade: 2, book_level: 2, book_snapshot: 2, bbo: 2 }],
    ]);
    expect(info.time).toEqual({
      local_first_ns: '1700000000005000000',
      local_first: '2023-11-14T22:13:20.005000000Z',
      local_last_ns: '1700000000130000000',
      local_last: '2023-11-14T22:13:20.130000000Z',
      exch_first_ns: '1700000000008000000',
      exch_first: '2023-11-14T22:13:20.008000000Z',
      exch_last_ns: '1700000001120000000',
      exch_last: '2023-11-14T22:13:21.120000000Z',
      duration_s: 0.125,
    });
    // The NoExchangeTime trade (exch_ts 80 ms = its local time) is not an exchange time.
    expect(info.streams[1]!.time.exch_first).toBe(iso(8));
    expect(info.streams[1]!.time.exch_last).toBe(iso(97));
    expect(info.raw_messages).toBe(5);
    expect(info.raw_counts).toEqual({ recv: 4, rest: 1 });
    const evBytes = fs.statSync(path.join(dirA, 'events-000001.arrow')).size;
    const rawBytes = fs.statSync(path.join(dirA, 'raw-000001.arrow')).size;
    const manBytes = fs.statSync(path.join(dirA, 'manifest.json')).size;
    expect(info.events_bytes).toBe(evBytes);
    expect(info.raw_bytes).toBe(rawBytes);
    expect(info.total_bytes).toBe(evBytes + rawBytes + manBytes);
    expect(info.bytes_per_event).toBe(Math.round((evBytes / 28) * 1000) / 1000);
    expect(info.segments).toEqual([
      {
        index: 1,
        events_file: 'events-000001.arrow',
        raw_file: 'raw-000001.arrow',
        rows: 28,
        manifest_rows: 28,
        raw_rows: 5,
        events_bytes: evBytes,
        raw_bytes: rawBytes,
        closed: true,
        listed_in_manifest: true,
      },
    ]);
    expect(info.problems).toEqual([]);
    expect(info.format_version).toBe(2);
    expect(info.publish_time).toBe('publish_ts');
  });

  it('says a format-1 dataset reads its publish time as exch_ts', () => {
    const dir = path.join(tempDir(), 'v1');
    fs.cpSync(dirA, dir, { recursive: true });
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...m, version: 1 }));
    const info = datasetInfo(dir);
    expect(info.format_version).toBe(1);
    expect(info.publish_time).toBe('exch_ts');
    expect(formatInfo(info)).toContain('  publish time: no publish_ts column (written before format 2): read as exch_ts');
    expect(formatInfo(datasetInfo(dirA))).toContain('  publish time: publish_ts column (exch_ts is the match time)');
  });

  it('reads a cut-off segment up to its last complete batch and reports it', () => {
    const info = datasetInfo(dirCut);
    expect(info.rows).toBe(6); // 4 batches of 2 rows; the last one was cut
    expect(info.segments[0]!.rows).toBe(6);
    expect(info.segments[0]!.manifest_rows).toBe(6);
    expect(info.counts).toEqual({ book_snapshot: 2, book_level: 2, bbo: 2 });
    expect(info.problems).toHaveLength(1);
    expect(info.problems[0]!.file).toBe(path.join(dirCut, 'events-000001.arrow'));
    expect(info.problems[0]!.message).toMatch(/cut off after 3 complete batch/);
  });
});

describe('checkDataset', () => {
  it('finds the unexplained break and the unmarked crossed book: exit code 2', () => {
    const c = checkDataset(dirA);
    expect(c.ok).toBe(false);
    expect(c.exit_code).toBe(2);
    expect(c.errors).toEqual([
      'binance-usdm BTCUSDT: 1 sequence break(s) that no gap marker explains',
      'binance-usdm BTCUSDT: book crossed after 1 message(s) with no gap marker after them',
    ]);
    expect(c.rows).toBe(28);
    expect(c.problems).toEqual([]);
    const s0 = c.streams[0]!;
    expect(s0.rows).toBe(20);
    expect(s0.snapshots).toBe(2);
    expect(s0.gaps).toEqual({ total: 2, by_reason: { sequence: 1, crossed: 1 } });
    expect([s0.disconnects, s0.reconnects]).toEqual([0, 0]);
    expect(s0.chain).toEqual({
      messages_checked: 5, // 102, 105, 106, 107, 122
      messages_after_reset: 3, // 101 (after a snapshot), 111 (after a gap), 121 (after a snapshot)
      messages_without_ids: 0,
      breaks: 1,
      explained_by_marker: 0,
      unexplained: 1,
      examples: [
        { row: 11, local_ts_ns: '1700000000034000000', local_ts: iso(34), id: '105', prev_id: '103', expected_prev_id: '102', explained: false },
      ],
    });
    expect(s0.crossed).toEqual({
      messages: 2,
      episodes: 2,
      marked: 1,
      unmarked: 1,
      examples: [
        { row: 15, exch_ts_ns: '1700000001040000000', exch_ts: iso(1040), best_bid: 102.5, best_ask: 102, marked: false },
        { row: 26, exch_ts_ns: '1700000001120000000', exch_ts: iso(1120), best_bid: 101, best_ask: 101, marked: true },
      ],
    });
    expect(s0.exch_ts_order).toEqual({
      decreases: 2,
      max_step_back_ms: 5,
      by_kind: {
        trade: { decreases: 1, max_step_back_ms: 1 },
        book_level: { decreases: 0, max_step_back_ms: 0 },
        book_snapshot: { decreases: 0, max_step_back_ms: 0 },
        gap: { decreases: 0, max_step_back_ms: 0 },
      },
    });
    expect(c.local_ts_order).toEqual({
      decreases: 1,
      max_step_back_ms: 2,
      examples: [{ row: 16, local_ts_ns: '1700000000048000000', local_ts: iso(48), prev_local_ts_ns: '1700000000050000000', step_back_ms: 2 }],
    });
    // 12 messages: the REST snapshot is left out. Sorted: -1002 -998 -996 -995 x5 -990 x2 -985 -983.
    expect(s0.latency_ms).toEqual({
      samples: 12,
      min: -1002,
      p50: -995,
      p90: -985,
      p99: -983,
      max: -983,
      mean: -993.25,
      by_kind: {
        trade: { samples: 3, min: -995, p50: -985, p90: -983, p99: -983, max: -983, mean: -987.667 },
        book_level: { samples: 8, min: -1002, p50: -995, p90: -990, p99: -990, max: -990, mean: -995.125 },
        book_snapshot: { samples: 1, min: -995, p50: -995, p90: -995, p99: -995, max: -995, mean: -995 },
      },
    });
  });

  it('checks the clean stream and estimates each exchange clock offset', () => {
    const c = checkDataset(dirA);
    const s1 = c.streams[1]!;
    expect(s1.chain).toMatchObject({ messages_checked: 1, messages_after_reset: 1, breaks: 0, unexplained: 0 });
    expect(s1.crossed).toMatchObject({ messages: 0, unmarked: 0 });
    expect(s1.gaps).toEqual({ total: 0, by_reason: {} });
    expect(s1.exch_ts_order.decreases).toBe(0);
    // Snapshot 2, level 4, level 6, bbo 6, trade 3; the NoExchangeTime trade is left out.
    expect(s1.latency_ms).toMatchObject({ samples: 5, min: 2, p50: 4, p90: 6, p99: 6, max: 6, mean: 4.2 });
    expect(c.exchanges).toEqual([
      {
        exchange: 'binance-usdm',
        streams: [0],
        clock_offset_ms: -1002,
        local_clock: 'behind',
        note: 'local clock is about 1002 ms behind binance-usdm exchange time',
        latency_ms: { samples: 12, min: -1002, p50: -995, p90: -985, p99: -983, max: -983, mean: -993.25 },
        latency_after_offset_ms: { samples: 12, min: 0, p50: 7, p90: 17, p99: 19, max: 19, mean: 8.75 },
      },
      {
        exchange: 'bybit-linear',
        streams: [1],
        clock_offset_ms: 2,
        local_clock: 'within_50ms',
        note: null,
        latency_ms: { samples: 5, min: 2, p50: 4, p90: 6, p99: 6, max: 6, mean: 4.2 },
        latency_after_offset_ms: { samples: 5, min: 0, p50: 2, p90: 4, p99: 4, max: 4, mean: 2.2 },
      },
    ]);
    expect(c.notes).toContain('local clock is about 1002 ms behind binance-usdm exchange time');
    expect(c.notes).toContain('binance-usdm BTCUSDT: 2 gap marker(s) (1 sequence, 1 crossed)');
  });

  it('explains a break followed by a gap marker and does not fail on it', () => {
    const dir = path.join(tempDir(), 'explained');
    writeDataset(dir, [
      [0, 1, 1001, S, BID, 100, 1, 10, -1, SB],
      [0, 1, 1001, S, ASK, 101, 1, 10, -1, SE | ME],
      [0, 2, 1002, L, BID, 100, 2, 11, 10, ME],
      [0, 3, 1003, L, BID, 100, 3, 12, 11, ME],
      [0, 4, 1004, L, BID, 100, 4, 15, 13, ME], // break ...
      [0, 4, 1004, Gap, 0, NaN, GapReason.Sequence, 15, 12, ME], // ... that the importer marked
      [0, 5, 1005, L, BID, 99, 1, -1, -1, 0], // one message without ids: not compared
      [0, 5, 1005, L, ASK, 102, 1, -1, -1, ME],
    ]);
    const c = checkDataset(dir);
    expect(c.exit_code).toBe(0);
    expect(c.errors).toEqual([]);
    expect(c.streams[0]!.chain).toMatchObject({ messages_checked: 2, messages_after_reset: 1, messages_without_ids: 1, breaks: 1, explained_by_marker: 1, unexplained: 0 });
    expect(c.streams[0]!.chain.examples[0]).toMatchObject({ row: 4, id: '15', prev_id: '13', expected_prev_id: '12', explained: true });
    expect(c.notes).toContain('binance-usdm BTCUSDT: 1 sequence break(s) followed by a gap marker');
  });

  it('still checks a cut-off dataset: only information, exit code 0', () => {
    const c = checkDataset(dirCut);
    expect(c.ok).toBe(true);
    expect(c.exit_code).toBe(0);
    expect(c.rows).toBe(6);
    expect(c.problems).toHaveLength(1);
    expect(c.notes[0]).toMatch(/^read problem: .*events-000001\.arrow: cut off after 3 complete batch/);
    expect(c.streams[1]!.latency_ms).toMatchObject({ samples: 4, min: 2, p50: 4, max: 6 });
  });
});

describe('bookAt', () => {
  it('a Disconnect without exchange time takes effect after the row before it, not at its local time', () => {
    // The local clock is 37 s ahead of the exchange's: the disconnect's exch_ts (its local time, 40 s) is
    // far past the exchange times around it. At exchange time 3 s the book must not be valid.
    const D = EventKind.Disconnect;
    const R = EventKind.Reconnect;
    const dir = path.join(tempDir('latencylab-dataset-'), 'dc');
    writeDataset(dir, [
      [0, 38_000, 1000, S, BID, 100, 1, 10, -1, SB],
      [0, 38_000, 1000, S, ASK, 101, 1, 10, -1, SE | ME],
      [0, 39_000, 2000, L, BID, 100, 2, 11, 10, ME],
      [0, 40_000, 40_000, D, 0, NaN, 0, -1, -1, ME | NoExchangeTime],
      [0, 40_500, 40_500, R, 0, NaN, 0, -1, -1, ME | NoExchangeTime],
      [0, 41_000, 4000, S, BID, 99, 1, 20, -1, SB],
      [0, 41_000, 4000, S, ASK, 100, 1, 20, -1, SE | ME],
      [0, 41_001, 4001, L, BID, 99, 3, 21, 20, ME],
    ]);
    const before = bookAt(dir, 'binance-usdm', 'BTCUSDT', ms(2000));
    expect(before.valid).toBe(false); // conservative: the disconnect is after this update in file order
    expect(before.invalid_reason).toBe('disconnect marker without exchange time (local time 2023-11-14T22:14:00.000000000Z) (row 3), and no snapshot after it up to this time');
    const during = bookAt(dir, 'binance-usdm', 'BTCUSDT', ms(3000));
    expect(during).toMatchObject({ valid: false, best_bid: null, best_ask: null });
    const after = bookAt(dir, 'binance-usdm', 'BTCUSDT', ms(4000));
    expect(after).toMatchObject({ valid: true, best_bid: 99, best_ask: 100, invalid_reason: null });
    expect(after.bids).toEqual([{ price: 99, size: 1 }]);
  });

  it('gives the book as of an exchange time, stopping before the first later book message', () => {
    const b = bookAt(dirA, 'binance-usdm', 'btcusdt', ms(1025));
    expect(b).toMatchObject({
      stream: 0,
      exchange: 'binance-usdm',
      symbol: 'BTCUSDT',
      at_ns: '1700000001025000000',
      at: iso(1025),
      valid: true,
      invalid_reason: null,
      message_complete: true,
      crossed: false,
      best_bid: 100,
      best_ask: 102,
      spread: 2,
      mid: 101,
      bid_levels: 3,
      ask_levels: 1,
      depth: 10,
      bids: [
        { price: 100, size: 3 },
        { price: 99.5, size: 1 },
        { price: 99, size: 2 },
      ],
      asks: [{ price: 102, size: 3 }],
      last_update: { id: '102', row: 9, exch_ts_ns: '1700000001020000000', exch_ts: iso(1020), local_ts_ns: '1700000000025000000', local_ts: iso(25) },
      book_rows_read: 7,
      problems: [],
    });
  });

  it('includes a message whose exchange time equals --at, and limits the depth', () => {
    const b = bookAt(dirA, 'binance-usdm', 'BTCUSDT', ms(1110), 1);
    expect(b).toMatchObject({
      valid: true,
      bids: [{ price: 100, size: 4 }],
      asks: [{ price: 101, size: 1 }],
      bid_levels: 1,
      ask_levels: 1,
      spread: 1,
      mid: 100.5,
      last_update: { id: '121', row: 25 },
      book_rows_read: 14,
    });
  });

  it('says why the book is not valid after a gap marker', () => {
    const b = bookAt(dirA, 'binance-usdm', 'BTCUSDT', ms(1065));
    expect(b.valid).toBe(false);
    expect(b.invalid_reason).toBe(`gap marker (sequence) at exchange time ${iso(1060)} (row 19), and no snapshot after it up to this time`);
    expect(b.bids).toEqual([]);
    expect(b.asks).toEqual([]);
    expect(b.best_bid).toBeNull();
    expect(b.last_update).toMatchObject({ id: '107', row: 16 });
  });

  it('rebuilds the other stream independently', () => {
    const b = bookAt(dirA, 'bybit-linear', 'ETHUSDT', ms(41), 5);
    expect(b).toMatchObject({
      valid: true,
      bids: [
        { price: 2000.5, size: 1 },
        { price: 2000, size: 1 },
      ],
      asks: [{ price: 2001, size: 5 }],
      spread: 0.5,
      mid: 2000.75,
      last_update: { id: '502', row: 12 },
    });
  });

  it('names the stream when it is missing or the time is outside its span', () => {
    expect(() => bookAt(dirA, 'binance-usdm', 'XRPUSDT', ms(1025))).toThrow(
      `dataset ${dirA} has no stream binance-usdm XRPUSDT (it has: binance-usdm BTCUSDT, bybit-linear ETHUSDT)`,
    );
    expect(() => bookAt(dirA, 'binance-usdm', 'BTCUSDT', ms(990))).toThrow(
      `${iso(990)} is before the first event of stream binance-usdm BTCUSDT (exchange time ${iso(1000)}) in ${dirA}`,
    );
    expect(() => bookAt(dirA, 'binance-usdm', 'BTCUSDT', ms(1200))).toThrow(
      `${iso(1200)} is after the last event of stream binance-usdm BTCUSDT (exchange time ${iso(1120)}) in ${dirA}`,
    );
    expect(() => bookAt(dirA, 'binance-usdm', 'BTCUSDT', ms(1025), 0)).toThrow('depth must be a positive integer, got 0');
  });
});

describe('the latencylab CLI', () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npx tsc -p . failed:\n${r.stdout}${r.stderr}`);
  });

  it('dataset check --json exits 2 on an unexplained break and a crossed book', () => {
    const r = cli('dataset', 'check', dirA, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(2);
    const c = JSON.parse(r.out);
    expect(c.ok).toBe(false);
    expect(c.exit_code).toBe(2);
    expect(c.streams[0].chain.unexplained).toBe(1);
    expect(c.streams[0].crossed.unmarked).toBe(1);
    expect(c.streams[0].gaps.by_reason).toEqual({ sequence: 1, crossed: 1 });
    expect(c.exchanges[0].clock_offset_ms).toBe(-1002);
    expect(c.exchanges[0].latency_after_offset_ms.p50).toBe(7);
  });

  it('dataset check prints readable tables and the clock sentence', () => {
    const r = cli('dataset', 'check', dirA);
    expect(r.code).toBe(2);
    expect(r.out).toContain('PROBLEMS FOUND (exit code 2)');
    expect(r.out).toContain('local clock is about 1002 ms behind binance-usdm exchange time');
    expect(r.out).toMatch(/binance-usdm BTCUSDT\s+2\s+2\s+0\s+5\s+1\s+1\s+2\s+1/);
  });

  it('dataset info and check work on a cut-off segment and report it: exit 0', () => {
    const info = cli('dataset', 'info', dirCut, '--json');
    expect(info.code).toBe(0);
    const i = JSON.parse(info.out);
    expect(i.rows).toBe(6);
    expect(i.problems).toHaveLength(1);
    const check = cli('dataset', 'check', dirCut, '--json');
    expect(check.code).toBe(0);
    const c = JSON.parse(check.out);
    expect(c.ok).toBe(true);
    expect(c.problems[0].message).toMatch(/cut off/);
    const human = cli('dataset', 'info', dirCut);
    expect(human.code).toBe(0);
    expect(human.out).toContain('read problems (1):');
  });

  it('dataset book --json with an ISO time and with integer ns', () => {
    const a = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', iso(1025), '--json');
    expect(a.code).toBe(0);
    const b = JSON.parse(a.out);
    expect([b.best_bid, b.best_ask, b.last_update.id, b.valid]).toEqual([100, 102, '102', true]);
    const n = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', String(ms(1025)), '--depth', '2', '--json');
    expect(n.code).toBe(0);
    expect(JSON.parse(n.out).bids).toEqual([
      { price: 100, size: 3 },
      { price: 99.5, size: 1 },
    ]);
    const human = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', iso(1025));
    expect(human.code).toBe(0);
    expect(human.out).toContain('last update id 102');
    expect(human.out).toMatch(/1\s+3\s+100\s+102\s+3/);
  });

  it('fails with a clear message naming the stream, the option or the folder', () => {
    const s = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'XRPUSDT', '--at', iso(1025));
    expect(s.code).toBe(1);
    expect(s.err).toContain('has no stream binance-usdm XRPUSDT');
    const t = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', 'noon');
    expect(t.code).toBe(1);
    expect(t.err).toContain('--at: not a time: "noon"');
    const d = cli('dataset', 'book', dirA, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', iso(1025), '--depth', 'x');
    expect(d.code).toBe(1);
    expect(d.err).toContain('--depth must be a whole number >= 1, got "x"');
    const missing = path.join(dirA, 'nope');
    const m = cli('dataset', 'info', missing);
    expect(m.code).toBe(1);
    expect(m.err).toContain(`dataset not found: ${missing} does not exist`);
    const notDs = cli('dataset', 'check', ROOT);
    expect(notDs.code).toBe(1);
    expect(notDs.err).toContain(`not a dataset folder: ${ROOT} holds no manifest.json`);
    // A file given for a folder is named as such, not as "<file>/manifest.json is missing".
    const file = path.join(ROOT, 'package.json');
    const f = cli('dataset', 'info', file);
    expect(f.code).toBe(1);
    expect(f.err).toContain(`not a dataset folder: ${file} is a file`);
    expect(f.err).not.toContain('package.json/manifest.json');
  });
});

describe('trade-id continuity', () => {
  it('checks streams whose ids go one by one: an unmarked jump is an error, a jump across a marker a note', () => {
    const rows: Row[] = [];
    // Stream 0: ids 1..25, then 30 (4 missing, no marker), then a TradeGap marker and 40 (explained).
    for (let id = 1; id <= 25; id++) rows.push([0, id, id, Trade, BID, 100, 1, id, -1, ME]);
    rows.push([0, 26, 26, Trade, BID, 100, 1, 30, -1, ME]);
    rows.push([0, 27, 27, Gap, 0, NaN, GapReason.BadInput, -1, -1, ME | NoExchangeTime | Flag.TradeGap]);
    rows.push([0, 28, 28, Trade, BID, 100, 1, 40, -1, ME]);
    // Stream 1: increasing but sparse ids (every third): not consecutive numbering, not checked.
    for (let k = 0; k < 30; k++) rows.push([1, 30 + k, 30 + k, Trade, ASK, 2000, 1, 3 * k, -1, ME]);
    const dir = path.join(tempDir('latencylab-dataset-'), 'trades');
    writeDataset(dir, rows);
    const c = checkDataset(dir);
    expect(c.exit_code).toBe(2);
    expect(c.errors).toEqual(['binance-usdm BTCUSDT: 1 trade id jump(s) that no gap marker explains (4 trade id(s) missing)']);
    expect(c.notes).toContain('binance-usdm BTCUSDT: 1 trade id jump(s) across a gap or disconnect marker');
    expect(c.streams[0]!.trade_ids).toEqual({
      checked: true,
      steps: 25,
      consecutive_steps: 24,
      jumps: 1,
      missing_ids: 4,
      explained_jumps: 1,
      backward_steps: 0,
      examples: [{ row: 25, local_ts: iso(26), from_id: 25, to_id: 30, missing: 4 }],
    });
    expect(c.streams[1]!.trade_ids).toMatchObject({ checked: false, steps: 29, consecutive_steps: 0, jumps: 29 });
    // The TradeGap row is counted with the gap markers.
    expect(c.streams[0]!.gaps).toEqual({ total: 1, by_reason: { bad_input: 1 } });
  });
});
