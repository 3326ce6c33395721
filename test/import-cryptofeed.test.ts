// The cryptofeed importer on the real Bybit, OKX and Coinbase captures, and on damaged copies of them:
// import into a dataset, read it back, rebuild every book and check it against what the files hold.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderBook } from '../src/book/order-book.js';
import { StreamBook } from '../src/book/stream-book.js';
import { openDataset } from '../src/data/reader.js';
import { ProblemLog } from '../src/data/sink.js';
import { secondsTextToNs } from '../src/data/time.js';
import { EventKind, Flag, GAP_REASON_NAMES, RawKind } from '../src/data/types.js';
import { DatasetWriter } from '../src/data/writer.js';
import { BybitNormalizer } from '../src/exchanges/bybit/normalizer.js';
import { CoinbaseNormalizer } from '../src/exchanges/coinbase/normalizer.js';
import { crc32Signed } from '../src/exchanges/okx/checksum.js';
import { OkxNormalizer } from '../src/exchanges/okx/normalizer.js';
import type { EventSink } from '../src/data/sink.js';
import type { StreamInfo } from '../src/data/types.js';
import { importCryptofeed, type CryptofeedStats } from '../src/importers/cryptofeed.js';

const SAMPLES = fileURLToPath(new URL('../../shared/data/cryptofeed-samples/', import.meta.url));
const sample = (name: string) => path.join(SAMPLES, `${name}.jsonl.gz`);

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cryptofeed-test-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Gap {
  reason: string;
  id: bigint;
  prevId: bigint;
}

interface TradeSeen {
  id: bigint;
  flags: number;
  side: number;
  price: number;
  bestBid: number;
  bestAsk: number;
}

interface StreamReplay {
  name: string;
  market: string;
  /** The stream's book, rebuilt by the one book state machine. */
  machine: StreamBook;
  book: OrderBook;
  /** A snapshot arrived and no gap since. */
  valid: boolean;
  trades: TradeSeen[];
  bookMessages: number;
  snapshots: number;
  bboRows: number;
  gaps: Gap[];
  crossed: number;
  /** Book rows that arrived while the book was invalid (must be 0: the importer drops them). */
  rowsWhileInvalid: number;
  disconnects: number;
}

interface Imported {
  stats: CryptofeedStats;
  problems: ProblemLog;
  streams: Map<string, StreamReplay>;
  raw: Map<number, { localTs: bigint; kind: number; exchange: string; source: string; data: string }>;
}

async function importAndReplay(files: string[]): Promise<Imported> {
  const dir = tmpDir();
  const writer = new DatasetWriter(dir);
  const problems = new ProblemLog();
  const stats = (await importCryptofeed(files, writer, problems, {})) as CryptofeedStats;
  writer.close();

  const ds = openDataset(dir);
  const list: StreamReplay[] = ds.streams.map((s) => {
    const machine = new StreamBook();
    return {
      name: `${s.exchange}:${s.symbol}`,
      market: s.market,
      machine,
      book: machine.book,
      valid: false,
      trades: [],
      bookMessages: 0,
      snapshots: 0,
      bboRows: 0,
      gaps: [],
      crossed: 0,
      rowsWhileInvalid: 0,
      disconnects: 0,
    };
  });
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      const s = list[b.stream[i]!]!;
      const kind = b.kind[i]!;
      const flags = b.flags[i]!;
      const side = b.side[i]!;
      const price = b.price[i]!;
      const size = b.size[i]!;
      if (kind === EventKind.BookLevel && !s.machine.valid) s.rowsWhileInvalid++;
      s.machine.apply(b, i);
      s.valid = s.machine.valid;
      if (kind === EventKind.Trade) {
        s.trades.push({ id: b.id[i]!, flags, side, price, bestBid: s.book.bestBid(), bestAsk: s.book.bestAsk() });
      } else if (kind === EventKind.BookSnapshot) {
        if (flags & Flag.SnapshotBegin) s.snapshots++;
      } else if (kind === EventKind.Gap) {
        s.gaps.push({ reason: GAP_REASON_NAMES[size]!, id: b.id[i]!, prevId: b.prevId[i]! });
      } else if (kind === EventKind.BestBidOffer) {
        s.bboRows++;
      } else if (kind === EventKind.Disconnect) {
        s.disconnects++;
      }
      if ((kind === EventKind.BookLevel || kind === EventKind.BookSnapshot) && flags & Flag.MessageEnd) {
        s.bookMessages++;
        if (s.valid && s.book.isCrossed()) s.crossed++;
      }
    }
  });
  const raw: Imported['raw'] = new Map();
  ds.forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      raw.set(Number(b.line[i]!), { localTs: b.localTs[i]!, kind: b.kind[i]!, exchange: b.exchange(i), source: b.source(i), data: b.data(i) });
    }
  });
  expect(ds.problems).toEqual([]);
  return { stats, problems, streams: new Map(list.map((s) => [s.name, s])), raw };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const allStreams = (r: Imported) => [...r.streams.values()];
const tradeCounts = (r: Imported) => Object.fromEntries(allStreams(r).map((s) => [s.name, s.trades.length]));

/** The sample's lines, for building damaged copies. */
function sampleLines(name: string): string[] {
  return zlib.gunzipSync(fs.readFileSync(sample(name))).toString('utf8').split('\n');
}

/** Write lines as a gzip file with the sample's name, in a folder of its own. */
function writeCopy(name: string, lines: string[]): string {
  const file = path.join(tmpDir(), `${name}.jsonl.gz`);
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n')));
  return file;
}

/** 0-based indexes of received frames whose inner JSON satisfies `pred`. */
function findFrames(lines: string[], pred: (frame: any, rec: any) => boolean): number[] {
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (!l) return;
    const rec = JSON.parse(l);
    if (rec.t === 'recv' && pred(JSON.parse(rec.data), rec)) out.push(i);
  });
  return out;
}

const problemAt = (p: ProblemLog, place: string) => p.items.filter((x) => x.place === place);

describe('OKX checksum', () => {
  it('matches the documented vectors', () => {
    expect(crc32Signed('3366.1:7:3366.8:9:3366:6:3368:8')).toBe(-1881014294);
    expect(crc32Signed('3366.1:7:3366.8:9:3368:8:3372:8')).toBe(831078360);
  });
});

describe.skipIf(!fs.existsSync(SAMPLES))('cryptofeed import: Bybit sample', () => {
  let r: Imported;
  it('imports every line and frame', async () => {
    r = await importAndReplay([sample('BYBIT')]);
    expect(r.problems.total).toBe(0);
    expect(r.stats.lines).toBe(3256);
    // 3,227 frames received + 2 REST responses.
    expect(r.stats.messages).toBe(3229);
    expect(r.stats.gaps).toEqual({});
    // Every line but the header: 2 http, 2 connect, 24 send, 3227 recv.
    expect(r.raw.size).toBe(3255);
    const kinds = [...r.raw.values()].map((x) => x.kind);
    expect(kinds.filter((k) => k === RawKind.Received).length).toBe(3227);
    expect(kinds.filter((k) => k === RawKind.Sent).length).toBe(24);
    expect(kinds.filter((k) => k === RawKind.Rest).length).toBe(2);
    expect(kinds.filter((k) => k === RawKind.Connect).length).toBe(2);
  });

  it('keeps frames verbatim with the local time taken from the text', () => {
    const lines = sampleLines('BYBIT');
    const line41 = r.raw.get(41)!;
    expect(line41.localTs).toBe(secondsTextToNs('1786310819.7200031'));
    expect(line41.localTs).toBe(1786310819720003100n);
    expect(line41.data).toBe(JSON.parse(lines[40]!).data);
    expect(line41.exchange).toBe('bybit-linear');
    expect(line41.source).toBe('BYBIT.jsonl.gz');
    expect(r.raw.get(2580)!.exchange).toBe('bybit-spot');
    expect(r.raw.get(3)!.exchange).toBe('bybit-spot'); // REST instruments-info?category=spot
  });

  it('counts trades per stream and rebuilds books with no gap and no crossing', () => {
    expect(tradeCounts(r)).toEqual({
      'bybit-linear:SOLUSDT': 165,
      'bybit-linear:DOGEUSDT': 83,
      'bybit-linear:BTCUSDT': 56,
      'bybit-linear:ETHUSDT': 23,
      'bybit-spot:BTCUSDT': 11,
      'bybit-spot:ETHUSDT': 9,
    });
    expect(r.streams.get('bybit-spot:BTCUSDT')!.market).toBe('spot');
    expect(r.streams.get('bybit-linear:BTCUSDT')!.market).toBe('linear');
    // 6 snapshots + 2,142 deltas.
    expect(sum(allStreams(r).map((s) => s.bookMessages))).toBe(2148);
    for (const s of allStreams(r)) {
      expect(s.snapshots, s.name).toBe(1);
      expect(s.gaps, s.name).toEqual([]);
      expect(s.crossed, s.name).toBe(0);
      expect(s.valid, s.name).toBe(true);
      expect(s.book.bids.count, s.name).toBeGreaterThan(0);
      expect(s.book.asks.count, s.name).toBeGreaterThan(0);
    }
    // Linear trade ids are UUIDs (id -1, flagged), spot ones numbers; no block trades in the sample.
    for (const s of allStreams(r)) {
      for (const t of s.trades) {
        // MessageEnd marks the last trade of each message; no other flag but the id's.
        const flags = t.flags & ~Flag.MessageEnd;
        if (s.market === 'linear') expect([t.id, flags]).toEqual([-1n, Flag.NonNumericId]);
        else expect(t.id > 2_000_000_000_000_000_000n && flags === 0, s.name).toBe(true);
      }
    }
  });
});

describe.skipIf(!fs.existsSync(SAMPLES))('cryptofeed import: OKX sample', () => {
  let r: Imported;
  it('verifies the checksum after every snapshot and update', async () => {
    r = await importAndReplay([sample('OKX')]);
    expect(r.problems.total).toBe(0);
    expect(r.stats.lines).toBe(440);
    expect(r.stats.messages).toBe(435); // 410 frames + 25 REST responses
    expect(r.stats.gaps).toEqual({});
    // 3 snapshots + 287 updates, every one checked and equal.
    expect(r.stats.checksums).toEqual({ verified: 290, failed: 0, skipped: 0 });
    expect(sum(allStreams(r).map((s) => s.bookMessages))).toBe(290);
  });

  it('names markets from the instId and counts trades', () => {
    expect(Object.fromEntries(allStreams(r).map((s) => [s.name, s.market]))).toEqual({
      'okx:BTC-USD-220527': 'future',
      'okx:UNI-USD-SWAP': 'inverse',
      'okx:BTC-USDT': 'spot',
    });
    expect(tradeCounts(r)).toEqual({ 'okx:BTC-USD-220527': 4, 'okx:UNI-USD-SWAP': 1, 'okx:BTC-USDT': 69 });
    for (const s of allStreams(r)) {
      expect(s.crossed, s.name).toBe(0);
      expect(s.valid, s.name).toBe(true);
    }
  });

  it('writes a checksum gap when a level was altered, and ignores updates until a snapshot', async () => {
    const lines = sampleLines('OKX');
    const [snap] = findFrames(lines, (f) => f.arg?.instId === 'BTC-USDT' && f.action === 'snapshot');
    const rec = JSON.parse(lines[snap!]!);
    const frame = JSON.parse(rec.data);
    const best = frame.data[0].bids[0];
    best[1] = String(Number(best[1]) + 1);
    rec.data = JSON.stringify(frame);
    lines[snap!] = JSON.stringify(rec);
    const d = await importAndReplay([writeCopy('OKX', lines)]);
    expect(d.stats.gaps).toEqual({ checksum: 1 });
    // The BTC-USDT snapshot fails and its 97 updates are ignored; the other 192 book messages verify.
    expect(d.stats.checksums).toEqual({ verified: 192, failed: 1, skipped: 0 });
    const s = d.streams.get('okx:BTC-USDT')!;
    expect(s.gaps.map((g) => g.reason)).toEqual(['checksum']);
    expect(s.rowsWhileInvalid).toBe(0);
    expect(s.bookMessages).toBe(1);
  });
});

describe.skipIf(!fs.existsSync(SAMPLES))('cryptofeed import: Coinbase sample', () => {
  let r: Imported;
  it('imports with no sequence gap', async () => {
    r = await importAndReplay([sample('COINBASE')]);
    expect(r.problems.total).toBe(0);
    expect(r.stats.lines).toBe(1038);
    expect(r.stats.messages).toBe(1031); // 1,030 frames + 1 REST response
    // sequence_num runs 0..1029 without a jump on the one connection.
    expect(r.stats.gaps).toEqual({});
    // 2 snapshots + 773 updates.
    expect(sum(allStreams(r).map((s) => s.bookMessages))).toBe(775);
    for (const s of allStreams(r)) {
      expect(s.gaps, s.name).toEqual([]);
      expect(s.crossed, s.name).toBe(0);
      expect(s.valid, s.name).toBe(true);
    }
  });

  it('emits live trades only, with the aggressor side (Coinbase reports the maker side)', () => {
    // The 200 trades of the two market_trades "snapshot" events happened before the subscription.
    expect(tradeCounts(r)).toEqual({ 'coinbase:BTC-USD': 47, 'coinbase:ETH-USD': 32 });
    const trades = allStreams(r).flatMap((s) => s.trades);
    // Check against the rebuilt book: aggressive buys lift the ask, aggressive sells hit the bid.
    const buysAtAsk = trades.filter((t) => t.side === 1 && t.price >= t.bestAsk).length;
    const sellsAtBid = trades.filter((t) => t.side === -1 && t.price <= t.bestBid).length;
    const wrongWay = trades.filter((t) => (t.side === 1 && t.price <= t.bestBid) || (t.side === -1 && t.price >= t.bestAsk)).length;
    expect({ buysAtAsk, sellsAtBid, wrongWay }).toEqual({ buysAtAsk: 48, sellsAtBid: 23, wrongWay: 0 });
  });

  it('writes a sequence gap for every book of the connection when messages are lost', async () => {
    const lines = sampleLines('COINBASE');
    // Drop a heartbeat: no book update is lost, but the books cannot know that.
    const [hb] = findFrames(lines, (f) => f.channel === 'heartbeats' && f.sequence_num > 500);
    const dropped = JSON.parse(JSON.parse(lines[hb!]!).data).sequence_num as number;
    lines.splice(hb!, 1);
    const d = await importAndReplay([writeCopy('COINBASE', lines)]);
    expect(d.stats.gaps).toEqual({ sequence: 2 });
    for (const s of allStreams(d)) {
      expect(s.gaps, s.name).toEqual([{ reason: 'sequence', id: BigInt(dropped + 1), prevId: BigInt(dropped - 1) }]);
      expect(s.rowsWhileInvalid, s.name).toBe(0);
      expect(s.trades.length, s.name).toBe(r.streams.get(s.name)!.trades.length);
    }
  });
});

describe.skipIf(!fs.existsSync(SAMPLES))('cryptofeed import: damaged Bybit input', () => {
  it('a reconnect marks a disconnect on every book of that connection, and no delta is applied until a snapshot', async () => {
    const lines = sampleLines('BYBIT');
    const deltas = findFrames(lines, (f, rec) => f.topic === 'orderbook.200.BTCUSDT' && f.type === 'delta' && rec.conn === 'BYBIT.ws.2');
    const at = deltas[100]!;
    const rec = JSON.parse(lines[at]!);
    const connect = lines.find((l) => l.includes('"t":"connect"') && l.includes('"conn":"BYBIT.ws.2"'))!;
    lines.splice(at, 0, JSON.stringify({ ...JSON.parse(connect), ts: rec.ts }));
    const d = await importAndReplay([writeCopy('BYBIT', lines)]);
    const linear = allStreams(d).filter((s) => s.market === 'linear');
    expect(linear.map((s) => s.disconnects)).toEqual([1, 1, 1, 1]);
    expect(allStreams(d).filter((s) => s.market === 'spot').map((s) => s.disconnects)).toEqual([0, 0]);
    for (const s of linear) {
      expect(s.rowsWhileInvalid, s.name).toBe(0);
      expect(s.crossed, s.name).toBe(0);
    }
  });

  it('writes a gap for a book delta dropped from the middle, and never applies a delta after it', async () => {
    const clean = await importAndReplay([sample('BYBIT')]);
    const lines = sampleLines('BYBIT');
    const deltas = findFrames(lines, (f, rec) => f.topic === 'orderbook.200.BTCUSDT' && f.type === 'delta' && rec.conn === 'BYBIT.ws.2');
    const drop = deltas[Math.floor(deltas.length / 2)]!;
    const u = JSON.parse(JSON.parse(lines[drop]!).data).data.u as number;
    lines.splice(drop, 1);
    const d = await importAndReplay([writeCopy('BYBIT', lines)]);
    expect(d.problems.total).toBe(0);
    expect(d.stats.gaps).toEqual({ sequence: 1 });
    const s = d.streams.get('bybit-linear:BTCUSDT')!;
    expect(s.gaps).toEqual([{ reason: 'sequence', id: BigInt(u + 1), prevId: BigInt(u - 1) }]);
    // No later snapshot: the book stays unknown, and no delta was applied to it.
    expect(s.rowsWhileInvalid).toBe(0);
    expect(s.valid).toBe(false);
    expect(s.bookMessages).toBe(Math.floor(deltas.length / 2) + 1);
    for (const other of allStreams(d)) {
      expect(other.crossed, other.name).toBe(0);
      if (other === s) continue;
      const same = clean.streams.get(other.name)!;
      expect(other.book.bids.levels(), other.name).toEqual(same.book.bids.levels());
      expect(other.book.asks.levels(), other.name).toEqual(same.book.asks.levels());
    }
  });

  it('reports malformed JSON and wrong field types by file, line and field, and goes on', async () => {
    const lines = sampleLines('BYBIT');
    const lineNo = (i: number) => `BYBIT.jsonl.gz:${i + 1}`;
    const linearDelta = (sym: string) => (f: any, rec: any) => f.topic === `orderbook.200.${sym}` && f.type === 'delta' && rec.conn === 'BYBIT.ws.2';

    const cut = findFrames(lines, linearDelta('ETHUSDT'))[50]!;
    const badU = findFrames(lines, linearDelta('SOLUSDT'))[50]!;
    const trade = findFrames(lines, (f) => f.topic === 'publicTrade.DOGEUSDT' && f.data.length === 1)[0]!;
    const tickers = findFrames(lines, (f) => typeof f.topic === 'string' && f.topic.startsWith('tickers.'));

    // 1. A line cut in half.
    lines[cut] = lines[cut]!.slice(0, 200);
    // 2. "u" as a string inside the frame.
    const badURec = JSON.parse(lines[badU]!);
    const uOfBad = JSON.parse(badURec.data).data.u as number;
    badURec.data = badURec.data.replace(/"u":(\d+)/, '"u":"$1"');
    lines[badU] = JSON.stringify(badURec);
    // 3. A trade price as a number.
    const tradeRec = JSON.parse(lines[trade]!);
    tradeRec.data = tradeRec.data.replace(/"p":"([\d.]+)"/, '"p":$1');
    lines[trade] = JSON.stringify(tradeRec);
    // 4. A frame that is not JSON, and a line whose "ts" is a string.
    const notJson = tickers[10]!;
    const notJsonRec = JSON.parse(lines[notJson]!);
    notJsonRec.data = '{"topic":"tickers.BTCUSDT",';
    lines[notJson] = JSON.stringify(notJsonRec);
    const badTs = tickers[20]!;
    lines[badTs] = lines[badTs]!.replace(/"ts":([\d.]+)/, '"ts":"$1"');
    // 5. An unknown topic.
    const unknown = tickers[30]!;
    lines[unknown] = lines[unknown]!.replace('tickers.', 'mystery.');

    const d = await importAndReplay([writeCopy('BYBIT', lines)]);
    expect(problemAt(d.problems, lineNo(cut))[0]!.message).toMatch(/line is not valid JSON/);
    expect(problemAt(d.problems, lineNo(badU))[0]!.message).toMatch(/orderbook\.200\.SOLUSDT: field "data\.u" must be a non-negative integer, got "\d+"/);
    expect(problemAt(d.problems, lineNo(trade))[0]!.message).toMatch(/publicTrade\.DOGEUSDT: field "data\[0\]\.p" must be a non-negative decimal string, got \d/);
    expect(problemAt(d.problems, lineNo(notJson))[0]!.message).toMatch(/frame is not valid JSON/);
    expect(problemAt(d.problems, lineNo(badTs))[0]!.message).toMatch(/field "ts" must be a number of seconds/);
    expect(problemAt(d.problems, lineNo(unknown))[0]!.message).toMatch(/unknown topic "mystery\.[A-Z]+USDT"/);
    expect(d.problems.counts).toEqual({ bad_json: 2, bad_field: 3, unknown_topic: 1 });

    // Every damaged line is still in the raw table; the cut one whole.
    expect(d.raw.get(cut + 1)!.data).toBe(lines[cut]);
    expect(d.raw.get(badU + 1)!.data).toBe(JSON.parse(lines[badU]!).data);

    // The cut ETHUSDT delta shows as a sequence break at the next delta; the unreadable SOLUSDT one at once.
    expect(d.stats.gaps).toEqual({ sequence: 1, bad_input: 1 });
    expect(d.streams.get('bybit-linear:ETHUSDT')!.gaps.map((g) => g.reason)).toEqual(['sequence']);
    expect(d.streams.get('bybit-linear:SOLUSDT')!.gaps).toEqual([{ reason: 'bad_input', id: -1n, prevId: BigInt(uOfBad - 1) }]);
    expect(d.streams.get('bybit-linear:DOGEUSDT')!.trades.length).toBe(82);
    for (const s of allStreams(d)) {
      expect(s.crossed, s.name).toBe(0);
      expect(s.rowsWhileInvalid, s.name).toBe(0);
    }
  });

  it('reads a truncated gzip up to the damage and reports where it stopped', async () => {
    const bytes = fs.readFileSync(sample('BYBIT'));
    const file = path.join(tmpDir(), 'BYBIT.jsonl.gz');
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const d = await importAndReplay([file]);
    const damaged = d.problems.items.find((p) => /truncated gzip/.test(p.message))!;
    expect(damaged.place).toBe(`BYBIT.jsonl.gz:${d.stats.lines + 1}`);
    expect(d.stats.lines).toBeGreaterThan(1000);
    expect(d.stats.lines).toBeLessThan(3256);
    expect(d.raw.size).toBe(d.stats.lines - 1);
    expect(d.stats.gaps).toEqual({});
    for (const s of allStreams(d)) expect(s.crossed, s.name).toBe(0);
  });
});

/** A sink that keeps rows in memory: [stream, kind, side, price, size, id, prevId, flags]. */
function memorySink(): EventSink & { rows: (number | bigint)[][]; infos: StreamInfo[]; clocks: bigint[][] } {
  const infos: StreamInfo[] = [];
  const rows: (number | bigint)[][] = [];
  /** [kind, exch_ts, publish_ts] per row (publish_ts = exch_ts when the normalizer gave none). */
  const clocks: bigint[][] = [];
  return {
    infos,
    rows,
    clocks,
    stream(info) {
      const i = infos.findIndex((s) => s.exchange === info.exchange && s.symbol === info.symbol);
      return i >= 0 ? i : infos.push(info) - 1;
    },
    event(stream, _l, e, kind, side, price, size, id, prevId, flags, pub) {
      rows.push([stream, kind, side, price, size, id, prevId, flags]);
      clocks.push([BigInt(kind), e, pub ?? e]);
    },
    rawMessage() {},
  };
}

describe('normalizers on hand-made frames', () => {
  const place = { source: 'test', line: 1 };
  it('Bybit: orderbook.1 gives bid and ask rows; deltas need a snapshot; u == 1 restarts the book', () => {
    const sink = memorySink();
    const n = new BybitNormalizer(sink, new ProblemLog(), 'spot');
    const book = (type: string, u: number, b: string[][], a: string[][], depth = 50) =>
      JSON.stringify({ topic: `orderbook.${depth}.BTCUSDT`, type, ts: 1000, data: { s: 'BTCUSDT', b, a, u, seq: 1 } });
    n.onMessage(1n, book('snapshot', 7, [['10', '1']], [['11', '2']], 1), place);
    n.onMessage(2n, book('delta', 5, [['9', '1']], []), place);
    n.onMessage(3n, book('delta', 6, [['9', '1']], []), place);
    n.onMessage(4n, book('delta', 1, [['9', '1'], ['8', '0']], [['12', '3']]), place);
    n.onMessage(5n, book('delta', 2, [], [['12', '0']]), place);
    const { BestBidOffer, Gap, BookSnapshot, BookLevel } = EventKind;
    const { MessageEnd, SnapshotBegin, SnapshotEnd } = Flag;
    expect(sink.rows).toEqual([
      [0, BestBidOffer, 1, 10, 1, 7n, -1n, 0],
      [0, BestBidOffer, -1, 11, 2, 7n, -1n, MessageEnd],
      [0, Gap, 0, NaN, 3, 5n, -1n, MessageEnd], // NoSnapshot, once; the next delta is ignored
      [0, BookSnapshot, 1, 9, 1, 1n, -1n, SnapshotBegin],
      [0, BookSnapshot, -1, 12, 3, 1n, -1n, SnapshotEnd | MessageEnd],
      [0, BookLevel, -1, 12, 0, 2n, 1n, MessageEnd],
    ]);
    expect(n.gaps).toEqual({ no_snapshot: 1 });
  });

  it('Bybit two clocks: book rows exch_ts = cts, publish_ts = ts; trades exch_ts = T, publish_ts = the frame ts', () => {
    const sink = memorySink();
    const n = new BybitNormalizer(sink, new ProblemLog(), 'linear');
    n.onMessage(1n, JSON.stringify({ topic: 'orderbook.50.BTCUSDT', type: 'snapshot', ts: 1005, cts: 1000, data: { s: 'BTCUSDT', b: [['10', '1']], a: [], u: 3, seq: 1 } }), place);
    n.onMessage(2n, JSON.stringify({ topic: 'orderbook.50.BTCUSDT', type: 'delta', ts: 1012, data: { s: 'BTCUSDT', b: [['10', '2']], a: [], u: 4, seq: 2 } }), place);
    n.onMessage(3n, JSON.stringify({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 1020, data: [{ T: 1017, s: 'BTCUSDT', S: 'Buy', v: '0.1', p: '10', i: 'a-b', BT: false }] }), place);
    const ms = (x: number) => BigInt(x) * 1_000_000n;
    expect(sink.clocks).toEqual([
      [BigInt(EventKind.BookSnapshot), ms(1000), ms(1005)],
      [BigInt(EventKind.BookLevel), ms(1012), ms(1012)], // no cts: one clock
      [BigInt(EventKind.Trade), ms(1017), ms(1020)],
    ]);
  });

  it('Coinbase two clocks: exch_ts = event_time / trade time, publish_ts = the message timestamp', () => {
    const sink = memorySink();
    const n = new CoinbaseNormalizer(sink, new ProblemLog());
    const up = (t: string) => ({ side: 'bid', event_time: t, price_level: '10', new_quantity: '1' });
    n.onMessage(1n, { channel: 'l2_data', timestamp: '2024-08-09T00:00:00.050Z', sequence_num: 0, events: [{ type: 'snapshot', product_id: 'BTC-USD', updates: [up('2024-08-09T00:00:00.040Z')] }] }, place);
    n.onMessage(2n, { channel: 'l2_data', timestamp: '2024-08-09T00:00:00.090Z', sequence_num: 1, events: [{ type: 'update', product_id: 'BTC-USD', updates: [up('2024-08-09T00:00:00.070Z')] }] }, place);
    n.onMessage(3n, { channel: 'market_trades', timestamp: '2024-08-09T00:00:00.120Z', sequence_num: 2, events: [{ type: 'update', trades: [{ trade_id: '5', product_id: 'BTC-USD', price: '10', size: '1', side: 'SELL', time: '2024-08-09T00:00:00.100Z' }] }] }, place);
    const at = (msText: number) => 1_723_161_600_000_000_000n + BigInt(msText) * 1_000_000n;
    expect(sink.clocks).toEqual([
      [BigInt(EventKind.BookSnapshot), at(40), at(50)],
      [BigInt(EventKind.BookLevel), at(70), at(90)],
      [BigInt(EventKind.Trade), at(100), at(120)],
    ]);
  });

  it('OKX: seqId chain with keep-alives and resets; checksum 0 is skipped', () => {
    const sink = memorySink();
    const n = new OkxNormalizer(sink, new ProblemLog());
    const frame = (action: string, seqId: number, prevSeqId: number, bids: string[][], asks: string[][]) =>
      JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action, data: [{ bids, asks, ts: '1000', checksum: 0, seqId, prevSeqId }] });
    n.onMessage(1n, frame('snapshot', 10, -1, [['10', '1', '0', '1']], [['11', '1', '0', '1']]), place);
    n.onMessage(2n, frame('update', 11, 10, [['10', '2', '0', '1']], []), place);
    n.onMessage(3n, frame('update', 11, 11, [], []), place); // keep-alive
    n.onMessage(4n, frame('update', 3, 11, [['9', '1', '0', '1']], []), place); // reset after maintenance
    n.onMessage(5n, frame('update', 6, 5, [['8', '1', '0', '1']], []), place); // 4 and 5 lost
    n.onMessage(6n, frame('update', 7, 6, [['7', '1', '0', '1']], []), place); // ignored
    expect(sink.infos).toEqual([{ exchange: 'okx', market: 'linear', symbol: 'BTC-USDT-SWAP' }]);
    expect(sink.rows.map((r) => [r[1], r[5], r[6]])).toEqual([
      [EventKind.BookSnapshot, 10n, -1n],
      [EventKind.BookSnapshot, 10n, -1n],
      [EventKind.BookLevel, 11n, 10n],
      [EventKind.BookLevel, 3n, 11n],
      [EventKind.Gap, 6n, 3n],
    ]);
    expect(n.gaps).toEqual({ sequence: 1 });
    expect(n.checksums).toEqual({ verified: 0, failed: 0, skipped: 4 });
  });
});
