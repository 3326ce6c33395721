// The exchange simulator on datasets without recorded frames: it generates each exchange's frames from
// the normalized events. The recorder, pointed at it, must rebuild the source's trades and books exactly.
// Everything stays on 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../src/exchange-sim/server.js';
import { decimalText } from '../src/exchanges/kit/sim-frames.js';
import { openDataset } from '../src/data/reader.js';
import { readManifest } from '../src/data/manifest.js';
import { BookBuilder } from '../src/book/book-builder.js';
import { EventKind, Flag, RawKind, type ExchangeId } from '../src/data/types.js';
import { startRecorder, type Recorder, type RecordExchange } from '../src/recorder/recorder.js';
import { runImport } from '../src/cli/import-command.js';
import { CRYPTOFEED, tempDir, withCaptures } from './helpers.js';

const BINANCE_DATASET = path.resolve(__dirname, '../datasets/binance-2024-08-08');

/** A copy of `src` without its raw table: raw segment files left out, each segment's `raw` set to "". */
function withoutRaw(src: string, dest: string): string {
  fs.mkdirSync(dest, { recursive: true });
  const files = fs.readdirSync(src);
  for (const f of files) {
    if (!f.startsWith('events-')) continue;
    // An unpacked copy is enough (and quicker to read); a fresh clone has only the .gz.
    if (f.endsWith('.gz') && files.includes(f.slice(0, -3))) continue;
    fs.copyFileSync(path.join(src, f), path.join(dest, f));
  }
  const m = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
  for (const seg of m.segments) {
    seg.raw = '';
    seg.rawRows = 0;
    seg.rawBytes = 0;
  }
  fs.writeFileSync(path.join(dest, 'manifest.json'), JSON.stringify(m, null, 2));
  return dest;
}

interface StreamData {
  /** id, price, size, side of every trade, in order. */
  trades: string[];
  /**
   * Top-10 book text at sampled update ids (MessageEnd of a book message while the book is valid); where
   * the stream has no update ids (OKX captures without seqId), at the n-th book message instead.
   */
  books: Map<string, string>;
}

function bookText(b: BookBuilder, s: number): string {
  const book = b.book(s);
  return JSON.stringify([book.bids.levels(10), book.asks.levels(10)]);
}

/**
 * A stream's trades, and its book at every `sampleEvery`-th book message (0: at every id in `at`).
 * Trades are compared with the id where it is numeric, else by price, size, side and exchange time.
 */
function readStream(dir: string, exchange: ExchangeId, symbol: string, sampleEvery: number, at?: ReadonlySet<string>): StreamData {
  const ds = openDataset(dir);
  const s = ds.streams.findIndex((x) => x.exchange === exchange && x.symbol === symbol);
  expect(s, `${exchange} ${symbol} in ${dir}`).toBeGreaterThanOrEqual(0);
  const trades: string[] = [];
  const books = new Map<string, string>();
  const bb = new BookBuilder(ds.streams.length);
  let msgs = 0;
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      bb.apply(b, i);
      if (b.stream[i] !== s) continue;
      const k = b.kind[i]!;
      if (k === EventKind.Trade) {
        const id = b.flags[i]! & Flag.NonNumericId ? `t${b.exchTs[i]}` : String(b.id[i]);
        trades.push(`${id} ${b.price[i]} ${b.size[i]} ${b.side[i]}`);
      } else if ((k === EventKind.BookLevel || k === EventKind.BookSnapshot) && b.flags[i]! & Flag.MessageEnd && bb.isValid(s)) {
        const n = msgs++;
        const id = b.id[i]! >= 0n ? String(b.id[i]) : `#${n}`;
        if (at ? at.has(id) : n % sampleEvery === 0) books.set(id, bookText(bb, s));
      }
    }
  });
  return { trades, books };
}

function countRaw(dir: string, kind: number): number {
  let n = 0;
  openDataset(dir).forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) if (b.kind[i] === kind) n++;
  });
  return n;
}

const FAST = { backoff: { baseMs: 50, maxMs: 400 }, restBackoff: { baseMs: 50, maxMs: 400 }, silenceMs: 5000, flushMs: 200 };

async function record(sim: ExchangeSim, exchange: RecordExchange, symbols: string[], extra: Record<string, unknown> = {}): Promise<{ rec: Recorder; out: string }> {
  const out = path.join(tempDir('latencylab-synth-rec-'), 'ds');
  const rec = await startRecorder({ exchange, symbols, out, url: sim.baseUrl(exchange as ExchangeId), ...FAST, ...extra });
  // Until the simulator has sent everything and the recorder has taken it all in.
  await Promise.race([sim.done, sleep(150_000)]);
  let last = -1;
  while (rec.stats().messages !== last) {
    last = rec.stats().messages;
    await sleep(300);
  }
  await rec.stop();
  await sim.close();
  return { rec, out };
}

interface Compared {
  /** The recording. */
  out: string;
  trades: number;
  sampled: number;
  compared: number;
  equal: number;
}

/** Record (exchange, symbol) from a simulator serving `dataset` and compare trades and sampled books with the source. */
async function recordAndCompare(dataset: string, exchange: RecordExchange, symbol: string, sampleEvery: number, extra: Record<string, unknown> = {}): Promise<Compared> {
  const logs: string[] = [];
  const sim = await startExchangeSim({ dataset, port: 0, speed: 'max', log: (l) => logs.push(l) });
  const { rec, out } = await record(sim, exchange, [symbol], extra);
  for (const kind of ['trade', 'book_level', 'book_snapshot']) {
    expect(logs, logs.join('\n')).toContain(`${exchange} ${symbol}: no recorded frames for ${kind} events: synthesizing them`);
  }
  const st = rec.stats();
  expect(st.gaps).toBe(0);
  expect(st.malformed).toBe(0);
  expect(st.reconnects).toBe(0);
  expect(readManifest(out).segments.every((s) => s.closed)).toBe(true);
  expect(countRaw(out, RawKind.Received)).toBeGreaterThan(100);

  const source = readStream(dataset, exchange as ExchangeId, symbol, sampleEvery);
  const got = readStream(out, exchange as ExchangeId, symbol, 0, new Set(source.books.keys()));
  expect(got.trades.length).toBe(source.trades.length);
  expect(got.trades).toEqual(source.trades);
  let compared = 0;
  let equal = 0;
  for (const [id, text] of got.books) {
    const want = source.books.get(id);
    if (want === undefined) continue;
    compared++;
    if (want === text) equal++;
    else if (equal === compared - 1) expect(text, `book at id ${id}`).toBe(want); // the first difference, readably
  }
  return { trades: source.trades.length, sampled: source.books.size, compared, equal, out };
}

describe('exchange-sim: frames synthesized from events', () => {
  let noRaw = '';
  beforeAll(() => {
    noRaw = withoutRaw(BINANCE_DATASET, path.join(tempDir('latencylab-synth-'), 'binance-noraw'));
  }, 120_000);

  it('decimal text is the shortest round-trip form, never exponent notation', () => {
    expect(decimalText(61800.2)).toBe('61800.2');
    expect(decimalText(0.001)).toBe('0.001');
    expect(decimalText(1e-7)).toBe('0.0000001');
    expect(decimalText(1.5e-8)).toBe('0.000000015');
    expect(decimalText(2e21)).toBe('2000000000000000000000');
    expect(decimalText(0)).toBe('0');
    for (const x of [1e-7, 3.25e-9, 65432.1, 1.2345e22]) expect(Number(decimalText(x))).toBe(x);
  });

  it('serves a dataset without a raw table: Binance frames in the exchange\'s shapes, chained by prev_id', async () => {
    const sim = await startExchangeSim({ dataset: noRaw, port: 0, speed: 'max' });
    expect(sim.exchanges.sort()).toEqual(['binance-spot', 'binance-usdm']);
    const WebSocket = (await import('ws')).default;
    const frames: any[] = [];
    const ws = new WebSocket(`${sim.baseUrl('binance-usdm')}/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker`);
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    while (frames.filter((f) => f.stream === 'btcusdt@depth@0ms').length < 50) await sleep(10);
    ws.terminate();
    await sim.close();
    const depth = frames.filter((f) => f.stream === 'btcusdt@depth@0ms').map((f) => f.data);
    expect(Object.keys(depth[0])).toEqual(['e', 'E', 'T', 's', 'U', 'u', 'pu', 'b', 'a']);
    for (let i = 1; i < depth.length; i++) {
      expect(depth[i].pu).toBe(depth[i - 1].u);
      expect(depth[i].U).toBe(depth[i].pu + 1);
    }
    const trade = frames.find((f) => f.stream === 'btcusdt@trade')?.data;
    expect(trade).toMatchObject({ e: 'trade', s: 'BTCUSDT', X: 'MARKET' });
    expect(typeof trade.t).toBe('number');
    expect(typeof trade.m).toBe('boolean');
    const bt = frames.find((f) => f.stream === 'btcusdt@bookTicker')?.data;
    expect(Object.keys(bt)).toEqual(['e', 'u', 's', 'b', 'B', 'a', 'A', 'T', 'E']);
    expect(Number(bt.b)).toBeLessThan(Number(bt.a));
  });

  it('binance-usdm BTCUSDT: the recorder gets the same trades and books, with no gap', async () => {
    const r = await recordAndCompare(noRaw, 'binance-usdm', 'BTCUSDT', 25);
    expect(r.trades).toBeGreaterThan(10_000);
    expect(r.sampled).toBeGreaterThan(100);
    expect(r.compared).toBeGreaterThan(r.sampled * 0.9);
    expect(r.equal).toBe(r.compared);
  }, 240_000);

  it('binance-spot BTCUSDT: the recorder gets the same trades and books, with no gap', async () => {
    const r = await recordAndCompare(noRaw, 'binance-spot', 'BTCUSDT', 25);
    expect(r.trades).toBeGreaterThan(1_000);
    expect(r.sampled).toBeGreaterThan(100);
    expect(r.compared).toBeGreaterThan(r.sampled * 0.9);
    expect(r.equal).toBe(r.compared);
  }, 240_000);
});

withCaptures('exchange-sim: frames synthesized from events (cryptofeed captures)', () => {
  let bybit = '';
  let okx = '';
  beforeAll(async () => {
    const dir = tempDir('latencylab-synth-cf-');
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'BYBIT.jsonl.gz')], path.join(dir, 'bybit'));
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'OKX.jsonl.gz')], path.join(dir, 'okx'));
    bybit = withoutRaw(path.join(dir, 'bybit'), path.join(dir, 'bybit-noraw'));
    okx = withoutRaw(path.join(dir, 'okx'), path.join(dir, 'okx-noraw'));
  }, 120_000);

  it('bybit-linear BTCUSDT: the recorder gets the same trades and books, with no gap', async () => {
    const r = await recordAndCompare(bybit, 'bybit-linear', 'BTCUSDT', 1, { bookDepth: 200 });
    expect(r.trades).toBeGreaterThan(0);
    expect(r.sampled).toBeGreaterThan(10);
    expect(r.compared).toBeGreaterThan(r.sampled * 0.9);
    expect(r.equal).toBe(r.compared);
  }, 240_000);

  it('okx BTC-USDT: the recorder gets the same trades and books (checksums verify), with no gap', async () => {
    const r = await recordAndCompare(okx, 'okx', 'BTC-USDT', 1);
    // Every book frame carried a checksum (the recorder verified each; a failure would be a gap).
    let books = 0;
    let summed = 0;
    openDataset(r.out).forEachRawBatch((b) => {
      for (let i = 0; i < b.length; i++) {
        if (b.kind[i] !== RawKind.Received || !b.data(i).startsWith('{"arg":{"channel":"books"')) continue;
        books++;
        if (JSON.parse(b.data(i)).data[0].checksum !== 0) summed++;
      }
    });
    expect(books).toBeGreaterThan(50);
    expect(summed).toBe(books);
    expect(r.trades).toBeGreaterThan(0);
    expect(r.sampled).toBeGreaterThan(10);
    expect(r.compared).toBeGreaterThan(r.sampled * 0.9);
    expect(r.equal).toBe(r.compared);
  }, 240_000);
});
