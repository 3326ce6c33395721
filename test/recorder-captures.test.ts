// The recorder against the exchange simulator serving the real cryptofeed captures (Bybit v5 linear, OKX v5),
// over loopback: what it records must equal the source dataset — trades, books, raw frames — and a fault
// on the connection must be marked and resynced. Nothing here reaches the internet.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../src/data/reader.js';
import { readManifest } from '../src/data/manifest.js';
import { BookBuilder } from '../src/book/book-builder.js';
import { EventKind, Flag, GapReason, RawKind } from '../src/data/types.js';
import { runImport } from '../src/cli/import-command.js';
import { startExchangeSim, type ExchangeSim, type ExchangeSimOptions } from '../src/exchange-sim/server.js';
import { startRecorder, type Recorder, type RecorderOptions } from '../src/recorder/recorder.js';
import { CRYPTOFEED, finishRecording, tempDir, withCaptures } from './helpers.js';

// ---- reading datasets ----

function streamOf(dir: string, exchange: string, symbol: string): number {
  const s = openDataset(dir).streams.findIndex((x) => x.exchange === exchange && x.symbol === symbol);
  if (s < 0) throw new Error(`${dir} has no ${exchange} ${symbol} stream`);
  return s;
}

interface TradeRow {
  price: number;
  size: number;
  side: number;
  /** The exchange's numeric id, or null where it is not numeric (Bybit linear UUIDs). */
  id: bigint | null;
  exchNs: bigint;
}

function tradesOf(dir: string, exchange: string, symbol: string): TradeRow[] {
  const s = streamOf(dir, exchange, symbol);
  const out: TradeRow[] = [];
  openDataset(dir).forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      if (b.stream[i] !== s || b.kind[i] !== EventKind.Trade) continue;
      out.push({ price: b.price[i]!, size: b.size[i]!, side: b.side[i]!, id: b.flags[i]! & Flag.NonNumericId ? null : b.id[i]!, exchNs: b.exchTs[i]! });
    }
  });
  return out;
}

/** The top 10 levels a side after each complete book message of one stream, keyed by `key(row)` (last one wins). */
function booksOf(dir: string, exchange: string, symbol: string, key: 'id' | 'exch'): Map<bigint, string> {
  const ds = openDataset(dir);
  const s = streamOf(dir, exchange, symbol);
  const bb = new BookBuilder(ds.streams.length);
  const out = new Map<bigint, string>();
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      bb.apply(b, i);
      if (b.stream[i] !== s || !(b.flags[i]! & Flag.MessageEnd) || !bb.isValid(s)) continue;
      if (b.kind[i] !== EventKind.BookLevel && b.kind[i] !== EventKind.BookSnapshot) continue;
      const book = bb.book(s);
      out.set(key === 'id' ? b.id[i]! : b.exchTs[i]!, JSON.stringify([book.bids.levels(10), book.asks.levels(10)]));
    }
  });
  return out;
}

function rawFrames(dir: string, pred: (kind: number, data: string, exchange: string) => boolean): string[] {
  const out: string[] = [];
  openDataset(dir).forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      const d = b.data(i);
      if (pred(b.kind[i]!, d, b.exchange(i))) out.push(d);
    }
  });
  return out;
}

function countEvents(dir: string, stream: number, kind: number, pred: (size: number) => boolean = () => true): number {
  let n = 0;
  openDataset(dir).forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) if (b.stream[i] === stream && b.kind[i] === kind && pred(b.size[i]!)) n++;
  });
  return n;
}

// ---- running ----

const FAST: Partial<RecorderOptions> = {
  backoff: { baseMs: 50, maxMs: 400 },
  silenceMs: 5000,
  flushMs: 200,
};

interface Run {
  sim: ExchangeSim;
  rec: Recorder;
  out: string;
}

async function record(dataset: string, simOpts: Partial<ExchangeSimOptions>, recOpts: Pick<RecorderOptions, 'exchange' | 'symbols'> & Partial<RecorderOptions>): Promise<Run> {
  const sim = await startExchangeSim({ dataset, port: 0, speed: 'max', ...simOpts });
  const out = path.join(tempDir('latencylab-reccap-'), 'ds');
  const rec = await startRecorder({ out, url: sim.baseUrl(recOpts.exchange), ...FAST, ...recOpts });
  return { sim, rec, out };
}

const finish = finishRecording;

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
const topicOf = (frame: string) => /^\{"topic":"([^"]+)"/.exec(frame)?.[1] ?? '';
const okxArgOf = (frame: string) => /^\{"arg":(\{[^}]*\})/.exec(frame)?.[1] ?? '';

/** Each recorded book must equal the source's at the same key; returns how many were compared. */
function compareBooks(source: Map<bigint, string>, recorded: Map<bigint, string>, keys?: Set<bigint>): { compared: number; equal: number; unknown: number } {
  let compared = 0;
  let equal = 0;
  let unknown = 0;
  for (const [k, v] of recorded) {
    if (keys && !keys.has(k)) continue;
    const want = source.get(k);
    if (want === undefined) {
      unknown++;
      continue;
    }
    compared++;
    if (want === v) equal++;
  }
  return { compared, equal, unknown };
}

/** For every source key in ascending order, the recorded book at that key or the last one before it. */
function compareAtEvery(source: Map<bigint, string>, recorded: Map<bigint, string>): { compared: number; equal: number } {
  const rec = [...recorded].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let j = -1;
  let compared = 0;
  let equal = 0;
  for (const [k, v] of [...source].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    while (j + 1 < rec.length && rec[j + 1]![0] <= k) j++;
    if (j < 0) continue;
    compared++;
    if (rec[j]![1] === v) equal++;
  }
  return { compared, equal };
}

/** Recorded trades are the source's in order, with the missing ones in at most `runs` contiguous runs. */
function missingRuns(source: TradeRow[], recorded: TradeRow[]): { missing: number; runs: number; inOrder: boolean } {
  const text = source.map((t) => json(t));
  let prev = -1;
  let inOrder = true;
  let missing = 0;
  let runs = 0;
  for (const t of recorded) {
    const p = text.indexOf(json(t), prev + 1);
    if (p < 0) {
      inOrder = false;
      continue;
    }
    if (p > prev + 1) {
      missing += p - prev - 1;
      runs++;
    }
    prev = p;
  }
  if (prev < source.length - 1) {
    missing += source.length - 1 - prev;
    runs++;
  }
  return { missing, runs, inOrder };
}

withCaptures('recorder against the simulator serving the cryptofeed captures', () => {
  let bybitDir = '';
  let okxDir = '';
  beforeAll(async () => {
    const dir = tempDir('latencylab-reccap-src-');
    bybitDir = path.join(dir, 'bybit');
    okxDir = path.join(dir, 'okx');
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'BYBIT.jsonl.gz')], bybitDir);
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'OKX.jsonl.gz')], okxDir);
  });

  describe('Bybit linear', () => {
    const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
    const TOPICS = new Set(SYMBOLS.flatMap((sym) => [`publicTrade.${sym}`, `orderbook.200.${sym}`]));
    /** Per symbol: trades, book messages (= update ids) in the capture. */
    const COUNTS = [['BTCUSDT', 56, 414], ['ETHUSDT', 23, 421]] as const;

    it('records BTCUSDT and ETHUSDT at full speed exactly as the source: trades, books at every update id, raw frames, 0 gaps', async () => {
      const run = await record(bybitDir, {}, { exchange: 'bybit-linear', symbols: SYMBOLS, bookDepth: 200 });
      await finish(run);
      const st = run.rec.stats();
      // The source: the capture's frames of these topics (16 + 12 trade frames, 414 + 421 book frames).
      const want = rawFrames(bybitDir, (k, d, e) => k === RawKind.Received && e === 'bybit-linear' && TOPICS.has(topicOf(d)));
      expect(want.length).toBe(863);
      expect(want.filter((f) => topicOf(f).startsWith('publicTrade.')).length).toBe(28);
      // Everything the simulator sent arrived: 863 data frames, plus the subscribe ack.
      expect(run.sim.stats().messagesSent).toBe(863);
      expect(st.messages).toBe(864);
      expect(st).toMatchObject({ gaps: 0, disconnects: 0, reconnects: 0, malformed: 0, resyncs: 0, problems: {} });
      expect(readManifest(run.out).segments.every((seg) => seg.closed)).toBe(true);
      // Raw frames of the subscribed topics: byte for byte, in order (orderbook.1 is not in the capture: silent).
      const got = rawFrames(run.out, (k) => k === RawKind.Received);
      expect(got.filter((f) => TOPICS.has(topicOf(f)))).toEqual(want);
      const others = got.filter((f) => !TOPICS.has(topicOf(f)));
      expect(others.length).toBe(1);
      expect(JSON.parse(others[0]!)).toMatchObject({ success: true, ret_msg: '', op: 'subscribe' });
      for (const [symbol, trades, books] of COUNTS) {
        // Trades: price, size, side, exchange time; linear trade ids are UUIDs (no numeric id on either side).
        const source = tradesOf(bybitDir, 'bybit-linear', symbol);
        expect(source.length).toBe(trades);
        expect(source.every((t) => t.id === null)).toBe(true);
        expect(json(tradesOf(run.out, 'bybit-linear', symbol))).toBe(json(source));
        // Books: the top 10 levels a side after every update id (u), rebuilt from both datasets.
        const sb = booksOf(bybitDir, 'bybit-linear', symbol, 'id');
        expect(sb.size).toBe(books);
        expect(compareBooks(sb, booksOf(run.out, 'bybit-linear', symbol, 'id'))).toEqual({ compared: books, equal: books, unknown: 0 });
        const s = streamOf(run.out, 'bybit-linear', symbol);
        expect(countEvents(run.out, s, EventKind.Gap)).toBe(0);
        expect(countEvents(run.out, s, EventKind.BookSnapshot)).toBe(400); // the capture's snapshot, 200 levels a side
        expect(countEvents(run.out, s, EventKind.Disconnect)).toBe(1); // the stop
      }
    });

    it('orderbook.50 (the recorder\'s default), computed by the simulator from the 200-level capture: the same top 10 at every update id', async () => {
      const run = await record(bybitDir, {}, { exchange: 'bybit-linear', symbols: SYMBOLS });
      await finish(run);
      expect(run.rec.stats()).toMatchObject({ gaps: 0, reconnects: 0, malformed: 0, problems: {} });
      // One depth-50 frame per recorded book frame, so u stays consecutive.
      expect(run.sim.stats().messagesSent).toBe(863);
      // Deltas that leave the top 50 unchanged are empty (no rows): the book there is that of the last non-empty one.
      for (const [symbol, trades, books, nonEmpty] of [[...COUNTS[0], 348], [...COUNTS[1], 335]] as const) {
        expect(tradesOf(run.out, 'bybit-linear', symbol).length).toBe(trades);
        const sb = booksOf(bybitDir, 'bybit-linear', symbol, 'id');
        const rb = booksOf(run.out, 'bybit-linear', symbol, 'id');
        expect(rb.size).toBe(nonEmpty);
        expect(compareAtEvery(sb, rb)).toEqual({ compared: books, equal: books });
        expect(countEvents(run.out, streamOf(run.out, 'bybit-linear', symbol), EventKind.BookSnapshot)).toBe(100);
      }
    });

    it('skip: a Gap row, the book topic resubscribed, a fresh snapshot, and the books equal the source again', async () => {
      const run = await record(bybitDir, { faults: [{ at: 200, fault: { kind: 'skip', count: 3 }, once: true }] }, { exchange: 'bybit-linear', symbols: ['BTCUSDT'], bookDepth: 200 });
      await finish(run);
      const st = run.rec.stats();
      expect(st).toMatchObject({ gaps: 1, resyncs: 1, disconnects: 0, reconnects: 0, malformed: 0, problems: {} });
      expect(st.snapshots.applied).toBe(1);
      expect(run.sim.stats().faultsFired).toBe(1);
      // Everything sent arrived (and three acks: subscribe, unsubscribe, subscribe): 430 capture frames less the 3 skipped, plus the new snapshot.
      expect(run.sim.stats().messagesSent).toBe(428);
      expect(st.messages).toBe(431);
      const s = streamOf(run.out, 'bybit-linear', 'BTCUSDT');
      const gaps: [bigint, bigint, number][] = [];
      openDataset(run.out).forEachEventBatch((b) => {
        for (let i = 0; i < b.length; i++) if (b.stream[i] === s && b.kind[i] === EventKind.Gap) gaps.push([b.id[i]!, b.prevId[i]!, b.size[i]!]);
      });
      // u 15077146..15077148 skipped: the next delta (…149) does not continue …145.
      expect(gaps).toEqual([[15077149n, 15077145n, GapReason.Sequence]]);
      const sent = rawFrames(run.out, (k) => k === RawKind.Sent).map((f) => JSON.parse(f) as { op: string; args: string[] });
      expect(sent.map((m) => [m.op, m.args])).toEqual([
        ['subscribe', ['publicTrade.BTCUSDT', 'orderbook.200.BTCUSDT', 'orderbook.1.BTCUSDT']],
        ['unsubscribe', ['orderbook.200.BTCUSDT']],
        ['subscribe', ['orderbook.200.BTCUSDT']],
      ]);
      expect(countEvents(run.out, s, EventKind.BookSnapshot)).toBe(800); // the capture's, and the resubscription's
      // The resync snapshot is the simulator's book at the last u it played; from there every book equals the source's.
      const sb = booksOf(bybitDir, 'bybit-linear', 'BTCUSDT', 'id');
      const rb = booksOf(run.out, 'bybit-linear', 'BTCUSDT', 'id');
      const c = compareBooks(sb, rb);
      expect(c.unknown).toBe(0);
      expect(c.equal).toBe(c.compared);
      expect(c.compared).toBe(rb.size);
      // All 194 update ids up to the gap were recorded; those from the gap to the new snapshot are lost (354 of
      // the 414 kept in a quiet run: how many depends on how fast the resubscription goes round); the rest compare.
      expect([...sb.keys()].filter((u) => u <= 15077145n).length).toBe(194);
      expect([...rb.keys()].filter((u) => u <= 15077145n).length).toBe(194);
      expect([...rb.keys()].filter((u) => u > 15077145n).length).toBeGreaterThanOrEqual(1);
      // Trades are not book messages: none lost.
      expect(json(tradesOf(run.out, 'bybit-linear', 'BTCUSDT'))).toBe(json(tradesOf(bybitDir, 'bybit-linear', 'BTCUSDT')));
    });
  });

  describe('OKX', () => {
    const ARGS = new Set(['{"channel":"trades","instId":"BTC-USDT"}', '{"channel":"books","instId":"BTC-USDT"}']);
    /** Exchange times (ns) of the capture's BTC-USDT book updates that carry a checksum. */
    const checksummed = (): Set<bigint> => {
      const out = new Set<bigint>();
      for (const f of rawFrames(okxDir, (k, d) => k === RawKind.Received && okxArgOf(d) === '{"channel":"books","instId":"BTC-USDT"}')) {
        const m = JSON.parse(f) as { action: string; data: { ts: string; checksum?: number }[] };
        if (m.action === 'update' && m.data[0]!.checksum) out.add(BigInt(m.data[0]!.ts) * 1_000_000n);
      }
      return out;
    };

    it('records BTC-USDT at full speed exactly as the source: trades with ids, books at every checksummed update, raw frames, 0 gaps', async () => {
      const run = await record(okxDir, {}, { exchange: 'okx', symbols: ['BTC-USDT'] });
      await finish(run);
      const st = run.rec.stats();
      const want = rawFrames(okxDir, (k, d) => k === RawKind.Received && ARGS.has(okxArgOf(d)));
      expect(want.length).toBe(167); // 69 trade frames, 98 book frames (1 snapshot, 97 updates)
      expect(run.sim.stats().messagesSent).toBe(167);
      expect(st.messages).toBe(170); // and the three subscribe acks (trades, books, bbo-tbt: not in the capture)
      expect(st).toMatchObject({ gaps: 0, disconnects: 0, reconnects: 0, malformed: 0, resyncs: 0, problems: {} });
      const got = rawFrames(run.out, (k) => k === RawKind.Received);
      expect(got.filter((f) => ARGS.has(okxArgOf(f)))).toEqual(want);
      expect(got.filter((f) => !ARGS.has(okxArgOf(f))).map((f) => JSON.parse(f).event)).toEqual(['subscribe', 'subscribe', 'subscribe']);
      // Trades: price, size, side, time and OKX's numeric trade ids.
      const source = tradesOf(okxDir, 'okx', 'BTC-USDT');
      expect(source.length).toBe(69);
      expect(source.every((t) => t.id !== null && t.id > 0n)).toBe(true);
      expect(json(tradesOf(run.out, 'okx', 'BTC-USDT'))).toBe(json(source));
      // Books (this 2022 capture has no seqId: keyed by exchange time, unique per book message here).
      const sb = booksOf(okxDir, 'okx', 'BTC-USDT', 'exch');
      const rb = booksOf(run.out, 'okx', 'BTC-USDT', 'exch');
      expect(sb.size).toBe(98);
      const keys = checksummed();
      expect(keys.size).toBe(97);
      expect(compareBooks(sb, rb, keys)).toEqual({ compared: 97, equal: 97, unknown: 0 });
      expect(compareBooks(sb, rb)).toEqual({ compared: 98, equal: 98, unknown: 0 });
      // No Gap row: every checksum verified against the recorder's book.
      const s = streamOf(run.out, 'okx', 'BTC-USDT');
      expect(countEvents(run.out, s, EventKind.Gap)).toBe(0);
      expect(countEvents(run.out, s, EventKind.BookSnapshot)).toBe(800);
    });

    it('drop: the disconnect is marked, the recorder reconnects and resubscribes, and the new snapshot resyncs the book', async () => {
      // Speed 2, not max: at max the simulator plays the rest of this 11 s capture in a few ms once no client is
      // connected, and the resync would only ever see the final book.
      const run = await record(okxDir, { speed: 2, faults: [{ at: 60, fault: { kind: 'drop' }, once: true }] }, { exchange: 'okx', symbols: ['BTC-USDT'] });
      await finish(run);
      const st = run.rec.stats();
      expect(st).toMatchObject({ gaps: 0, disconnects: 1, reconnects: 1, malformed: 0, problems: {} });
      expect(run.sim.stats()).toMatchObject({ connectionsTotal: 2, faultsFired: 1 });
      const s = streamOf(run.out, 'okx', 'BTC-USDT');
      expect(countEvents(run.out, s, EventKind.Disconnect)).toBe(2); // the drop, and the stop
      expect(countEvents(run.out, s, EventKind.Reconnect)).toBe(1);
      expect(countEvents(run.out, s, EventKind.Gap)).toBe(0);
      expect(countEvents(run.out, s, EventKind.BookSnapshot)).toBe(1600); // the capture's, and the new connection's
      const marks = rawFrames(run.out, (k) => k === RawKind.Connect || k === RawKind.Disconnect || k === RawKind.Sent);
      const url = `${run.sim.baseUrl('okx')}/ws/v5/public`;
      const sub = marks[1]!;
      expect(JSON.parse(sub).args).toEqual([
        { channel: 'trades', instId: 'BTC-USDT' },
        { channel: 'books', instId: 'BTC-USDT' },
        { channel: 'bbo-tbt', instId: 'BTC-USDT' },
      ]);
      expect(marks).toEqual([url, sub, 'closed by peer (code 1006)', url, sub, 'stopped']);
      // The first connection got the 60 frames the simulator sent before the drop (or 59: the last may die in the socket).
      const firstConn: string[] = [];
      let conns = 0;
      openDataset(run.out).forEachRawBatch((b) => {
        for (let i = 0; i < b.length; i++) {
          if (b.kind[i] === RawKind.Connect) conns++;
          else if (conns === 1 && b.kind[i] === RawKind.Received && ARGS.has(okxArgOf(b.data(i)))) firstConn.push(b.data(i));
        }
      });
      expect(firstConn.length).toBeGreaterThanOrEqual(59);
      expect(firstConn.length).toBeLessThanOrEqual(60);
      // Every book after the resync equals the source's at the same update (checksums verified: no Gap row).
      const sb = booksOf(okxDir, 'okx', 'BTC-USDT', 'exch');
      const rb = booksOf(run.out, 'okx', 'BTC-USDT', 'exch');
      const c = compareBooks(sb, rb, checksummed());
      expect(c.unknown).toBe(0);
      expect(c.equal).toBe(c.compared);
      expect(c.compared).toBeGreaterThan(80); // 97 checksummed updates, less those played while reconnecting
      // Trades: in order, the missing ones (played while the socket was down) in one run.
      const r = missingRuns(tradesOf(okxDir, 'okx', 'BTC-USDT'), tradesOf(run.out, 'okx', 'BTC-USDT'));
      expect(r.inOrder).toBe(true);
      expect(r.runs).toBeLessThanOrEqual(1);
      expect(r.missing).toBeLessThan(10);
    });
  });
});
