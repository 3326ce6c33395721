// The recorder: clock, backoff, REST limits, the connection's heartbeat and silence handling (against a
// tiny local WebSocket server), and whole recordings against the exchange simulator on loopback.
// Nothing here reaches the internet.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { openDataset } from '../src/data/reader.js';
import { readManifest } from '../src/data/manifest.js';
import { BookBuilder } from '../src/book/book-builder.js';
import { EventKind, Flag, GapReason, RawKind } from '../src/data/types.js';
import { MonotonicClock } from '../src/recorder/clock.js';
import { Backoff } from '../src/recorder/backoff.js';
import { FeedConnection } from '../src/recorder/connection.js';
import { retryAfterMs, SnapshotFetcher, WeightLimiter } from '../src/recorder/snapshots.js';
import { LagWindow } from '../src/recorder/status.js';
import { startRecorder, type Recorder, type RecorderOptions } from '../src/recorder/recorder.js';
import { binanceDepthUrl, binanceDepthWeight, binancePlan } from '../src/exchanges/binance/feed.js';
import { bybitPlan, isBybitPong } from '../src/exchanges/bybit/feed.js';
import { okxPlan } from '../src/exchanges/okx/feed.js';
import { finishRecording, tempDir } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const DATASET = path.join(ROOT, 'datasets/binance-2024-08-08');

describe('recorder clock', () => {
  it('is the wall clock at start plus monotonic time since', () => {
    let mono = 5_000_000_000n;
    const c = new MonotonicClock(() => 1_723_161_253_937, () => mono);
    expect(c.anchorNs).toBe(1_723_161_253_937_000_000n);
    expect(c.now()).toBe(1_723_161_253_937_000_000n);
    mono += 1_234_567n;
    expect(c.now()).toBe(1_723_161_253_938_234_567n);
  });

  it('never goes backwards and stays within a few ms of Date.now()', () => {
    const c = new MonotonicClock();
    let prev = c.now();
    for (let i = 0; i < 100_000; i++) {
      const t = c.now();
      expect(t >= prev).toBe(true);
      prev = t;
    }
    const drift = Number(c.now() / 1_000_000n) - Date.now();
    expect(Math.abs(drift)).toBeLessThan(50);
  });
});

describe('backoff', () => {
  it('doubles from 1 s to at most 30 s and starts over after reset', () => {
    const b = new Backoff();
    expect([1, 2, 3, 4, 5, 6, 7].map(() => b.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(1000);
  });
  it('rejects nonsense', () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow();
    expect(() => new Backoff({ baseMs: 10, maxMs: 5 })).toThrow();
  });
});

describe('REST weight limiter and snapshot fetcher', () => {
  it('counts weight per calendar minute and waits for the next one past its share', () => {
    let now = 60_000 * 1000 + 10_000; // 10 s into a minute
    const lim = new WeightLimiter(2400, 0.5, () => now);
    for (let i = 0; i < 60; i++) {
      expect(lim.waitMs(20)).toBe(0);
      lim.take(20);
    }
    expect(lim.usedWeight).toBe(1200);
    // 1200 + 20 > 2400 · 0.5: wait until the next minute starts (50 s + margin).
    expect(lim.waitMs(20)).toBe(50_000 + 250);
    now += 50_000;
    expect(lim.waitMs(20)).toBe(0);
    expect(lim.usedWeight).toBe(0);
  });

  it('takes the exchange’s x-mbx-used-weight-1m when it is higher, and honours Retry-After', () => {
    let now = 0;
    const lim = new WeightLimiter(2400, 0.5, () => now);
    lim.noteUsed(1190);
    expect(lim.waitMs(20)).toBeGreaterThan(0);
    now = 60_000;
    lim.block(5000);
    expect(lim.waitMs(2)).toBe(5000);
    now += 5000;
    expect(lim.waitMs(2)).toBe(0);
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });

  it('depth weights and URLs follow each Binance market', () => {
    expect(binanceDepthWeight('binance-spot', 1000)).toBe(50);
    expect(binanceDepthWeight('binance-spot', 5000)).toBe(250);
    expect(binanceDepthWeight('binance-usdm', 1000)).toBe(20);
    expect(binanceDepthWeight('binance-usdm', 50)).toBe(2);
    expect(binanceDepthUrl('binance-usdm', 'btcusdt')).toBe('https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000');
    expect(binanceDepthUrl('binance-spot', 'ETHUSDT', 500, 'http://127.0.0.1:9/binance-spot')).toBe('http://127.0.0.1:9/binance-spot/api/v3/depth?symbol=ETHUSDT&limit=500');
    expect(binanceDepthUrl('binance-coinm', 'BTCUSD_PERP')).toBe('https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000');
  });

  it('backs off on 429 (Retry-After), 5xx and bad bodies, then succeeds; gives up on other 4xx', async () => {
    const replies: { status: number; body: string; headers?: Record<string, string> }[] = [
      { status: 429, body: '{"code":-1003}', headers: { 'retry-after': '0.2' } },
      { status: 503, body: 'busy' },
      { status: 200, body: 'not json' },
      { status: 200, body: '{"lastUpdateId":7,"bids":[],"asks":[]}', headers: { 'x-mbx-used-weight-1m': '40' } },
    ];
    const times: number[] = [];
    const fakeFetch = (async () => {
      times.push(performance.now());
      const r = replies.shift()!;
      return new Response(r.body, { status: r.status, headers: r.headers });
    }) as unknown as typeof fetch;
    const lim = new WeightLimiter(2400, 0.5);
    const f = new SnapshotFetcher({ clock: new MonotonicClock(), limiter: lim, backoff: { baseMs: 30, maxMs: 100 }, fetch: fakeFetch });
    const ctl = new AbortController();
    const validate = (t: string) => (t.startsWith('{') ? null : 'not json');
    const res = await f.get('http://x/depth', 20, ctl.signal, validate);
    expect(res.text).toContain('lastUpdateId');
    expect(f.stats).toMatchObject({ requests: 4, ok: 1, rateLimited: 1, retries: 2 });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190); // Retry-After 0.2 s
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(25); // backoff 30 ms
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(55); // backoff 60 ms
    expect(lim.usedWeight).toBeGreaterThanOrEqual(80);

    replies.push({ status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' });
    await expect(f.get('http://x/depth', 20, ctl.signal)).rejects.toThrow(/HTTP 400/);
  });

  it('serializes requests and waits when the weight share is used up', async () => {
    // A minute boundary 300 ms from now.
    const offset = 60_000 - 300 - (Date.now() % 60_000);
    const now = () => Date.now() + offset;
    const lim = new WeightLimiter(100, 0.5, now);
    let inFlight = 0;
    let maxInFlight = 0;
    const times: number[] = [];
    const fakeFetch = (async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      times.push(now());
      await sleep(5);
      inFlight--;
      return new Response('{}', { status: 200 });
    }) as unknown as typeof fetch;
    const f = new SnapshotFetcher({ clock: new MonotonicClock(), limiter: lim, fetch: fakeFetch });
    const ctl = new AbortController();
    await Promise.all([1, 2, 3].map(() => f.get('http://x', 20, ctl.signal)));
    expect(maxInFlight).toBe(1);
    // 50 weight per minute: two requests now, the third in the next minute.
    expect(Math.floor(times[1]! / 60_000)).toBe(Math.floor(times[0]! / 60_000));
    expect(Math.floor(times[2]! / 60_000)).toBe(Math.floor(times[0]! / 60_000) + 1);
  });
});

describe('feeds', () => {
  it('build each exchange’s URLs and subscriptions', () => {
    expect(binancePlan('binance-usdm', ['BTCUSDT', 'ETHUSDT'], ['trade', 'depth', 'bbo'])[0]!.url).toBe(
      'wss://fstream.binance.com/public/stream?streams=btcusdt@trade/btcusdt@depth@0ms/btcusdt@bookTicker/ethusdt@trade/ethusdt@depth@0ms/ethusdt@bookTicker',
    );
    expect(binancePlan('binance-spot', ['BTCUSDT'], ['depth'], 'ws://127.0.0.1:5/binance-spot')[0]!.url).toBe('ws://127.0.0.1:5/binance-spot/stream?streams=btcusdt@depth@100ms');
    const by = bybitPlan('linear', ['BTCUSDT'], ['trade', 'depth', 'bbo'], 200, 'ws://127.0.0.1:5/bybit-linear');
    expect(by[0]!.url).toBe('ws://127.0.0.1:5/bybit-linear/v5/public/linear');
    expect(JSON.parse(by[0]!.subscribe[0]!)).toMatchObject({ op: 'subscribe', args: ['publicTrade.BTCUSDT', 'orderbook.200.BTCUSDT', 'orderbook.1.BTCUSDT'] });
    // Spot takes at most 10 args per request.
    const many = bybitPlan('spot', Array.from({ length: 4 }, (_, i) => `S${i}USDT`), ['trade', 'depth', 'bbo']);
    expect(many[0]!.subscribe.map((s) => JSON.parse(s).args.length)).toEqual([10, 2]);
    expect(isBybitPong('{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"","op":"ping"}')).toBe(true);
    const okx = okxPlan(['BTC-USDT'], ['trade', 'depth', 'bbo']);
    expect(okx[0]!.url).toBe('wss://ws.okx.com:8443/ws/v5/public');
    expect(JSON.parse(okx[0]!.subscribe[0]!).args).toEqual([
      { channel: 'trades', instId: 'BTC-USDT' },
      { channel: 'books', instId: 'BTC-USDT' },
      { channel: 'bbo-tbt', instId: 'BTC-USDT' },
    ]);
  });

  it('lag median over an interval', () => {
    const w = new LagWindow();
    expect(w.takeMedianMs()).toBeNull();
    for (const lag of [5, 1, 3]) w.add(BigInt(1000 + lag) * 1_000_000n, 1000);
    expect(w.takeMedianMs()).toBe(3);
    expect(w.takeMedianMs()).toBeNull();
  });
});

/** A local WebSocket server whose behaviour a test scripts. */
async function localServer(onConn: (ws: WebSocket, n: number) => void): Promise<{ url: string; close: () => Promise<void>; connections: () => number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let n = 0;
  wss.on('connection', (ws) => onConn(ws, ++n));
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/x`,
    connections: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** Frames a scripted server received, parsed where JSON. */
function parsedFrames(got: string[]): Record<string, unknown>[] {
  return got.filter((g) => g.startsWith('{')).map((g) => JSON.parse(g) as Record<string, unknown>);
}

describe('Bybit and OKX against scripted servers', () => {
  it('Bybit: subscribes, pings, and resubscribes a book whose sequence broke', async () => {
    const got: string[] = [];
    const book = (type: string, u: number) =>
      JSON.stringify({ topic: 'orderbook.50.BTCUSDT', type, ts: 1_700_000_000_000 + u, data: { s: 'BTCUSDT', b: [['100.0', String(u)]], a: [['101.0', '1']], u, seq: u }, cts: 1_700_000_000_000 + u });
    const server = await localServer((ws) => {
      let timer: NodeJS.Timeout | null = null;
      ws.on('message', (d) => {
        const text = d.toString();
        got.push(text);
        const m = JSON.parse(text) as { op: string; args?: string[] };
        if (m.op === 'ping') ws.send('{"success":true,"ret_msg":"pong","conn_id":"c","req_id":"","op":"ping"}');
        if (m.op !== 'subscribe') return;
        ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'c', req_id: '', op: 'subscribe' }));
        if (!m.args!.includes('orderbook.50.BTCUSDT')) return;
        let u = 1000 * got.length;
        ws.send(book('snapshot', u));
        let n = 0;
        if (timer) clearInterval(timer);
        timer = setInterval(() => {
          n++;
          u += n === 5 ? 2 : 1; // the 5th delta skips an id
          ws.send(book('delta', u));
        }, 10);
      });
      ws.on('close', () => timer && clearInterval(timer));
    });
    const out = path.join(tempDir('latencylab-rec-'), 'ds');
    const rec = await startRecorder({ exchange: 'bybit-linear', symbols: ['btcusdt'], out, url: server.url.replace(/\/x$/, ''), pingIntervalMs: 100, ...FAST });
    await until(() => rec.stats().resyncs >= 1 && rec.stats().snapshots.applied >= 1, 5000, 'a resync');
    await sleep(300);
    await rec.stop();
    await server.close();
    const sent = parsedFrames(got);
    expect(sent[0]).toMatchObject({ op: 'subscribe', args: ['publicTrade.BTCUSDT', 'orderbook.50.BTCUSDT', 'orderbook.1.BTCUSDT'] });
    expect(sent.filter((m) => m.op === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(sent.some((m) => m.op === 'unsubscribe' && JSON.stringify(m.args) === '["orderbook.50.BTCUSDT"]')).toBe(true);
    expect(rec.stats().reconnects).toBe(0);
    expect(countEvents(out, EventKind.Gap, (_f, size) => size === GapReason.Sequence)).toBeGreaterThanOrEqual(1);
    expect(countEvents(out, EventKind.BookSnapshot)).toBeGreaterThanOrEqual(2);
    // Sent frames are kept raw too; pongs are not data.
    expect(rawFrames(out, (_s, k) => k === RawKind.Sent).length).toBe(sent.length);
    expect(rec.stats().malformed).toBe(0);
  });

  it('OKX: resubscribes after a seqId break, restarts if no snapshot comes', async () => {
    const got: string[] = [];
    let conns = 0;
    const frame = (action: string, seqId: number, prevSeqId: number) =>
      JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT' }, action, data: [{ asks: [['101', '1', '0', '1']], bids: [['100', String(seqId % 7 + 1), '0', '1']], ts: String(1_700_000_000_000 + seqId), checksum: 0, prevSeqId, seqId }] });
    const server = await localServer((ws, n) => {
      conns = n;
      let timer: NodeJS.Timeout | null = null;
      ws.on('message', (d) => {
        const text = d.toString();
        got.push(`${n}:${text}`);
        if (text === 'ping') return void ws.send('pong');
        const m = JSON.parse(text) as { op: string };
        if (m.op !== 'subscribe') return;
        // Connection 1: snapshot, updates, a break; the resubscription goes unanswered (→ restart).
        // Connection 2: snapshot and a clean chain, then quiet apart from pongs... and then data again.
        const subs = got.filter((g) => g.startsWith(`${n}:`) && g.includes('"subscribe"')).length;
        if (n === 1 && subs > 1) return;
        let seq = 100 * n;
        ws.send(frame('snapshot', seq, -1));
        let k = 0;
        if (timer) clearInterval(timer);
        timer = setInterval(() => {
          k++;
          const prev = n === 1 && k === 4 ? seq - 1 : seq;
          seq++;
          ws.send(frame('update', seq, prev));
        }, 10);
      });
      ws.on('close', () => timer && clearInterval(timer));
    });
    const out = path.join(tempDir('latencylab-rec-'), 'ds');
    const rec = await startRecorder({ exchange: 'okx', symbols: ['BTC-USDT'], streams: ['depth'], out, url: server.url.replace(/\/x$/, ''), resyncTimeoutMs: 300, ...FAST });
    await until(() => rec.stats().reconnects >= 1, 5000, 'a restart');
    await sleep(200);
    await rec.stop();
    await server.close();
    expect(conns).toBe(2);
    const c1 = got.filter((g) => g.startsWith('1:')).map((g) => g.slice(2));
    expect(c1.filter((g) => g.includes('"unsubscribe"')).length).toBe(1);
    expect(JSON.parse(c1[0]!)).toMatchObject({ op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT' }] });
    const reasons = rawFrames(out, (_s, k) => k === RawKind.Disconnect);
    expect(reasons[0]).toMatch(/BTC-USDT book not resynced within 300 ms/);
    expect(countEvents(out, EventKind.Gap)).toBe(1);
    expect(countEvents(out, EventKind.Disconnect)).toBe(2); // the restart, and the stop
    expect(countEvents(out, EventKind.Reconnect)).toBe(1);
    expect(countEvents(out, EventKind.BookSnapshot)).toBeGreaterThanOrEqual(4); // 2 levels × 2 snapshots
    expect(rec.stats().gaps).toBe(1);
  });
});

describe('connection', () => {
  it('sends the heartbeat when idle, treats silence as death and reconnects with backoff', async () => {
    const got: string[] = [];
    const server = await localServer((ws, n) => {
      ws.on('message', (d) => {
        got.push(`${n}:${d.toString()}`);
        if (d.toString() === 'ping') ws.send('pong');
      });
      // The first connection sends a little data and then goes silent (pongs only).
      if (n === 1) ws.send('{"a":1}');
      else {
        const t = setInterval(() => ws.send('{"b":2}'), 20);
        ws.on('close', () => clearInterval(t));
      }
    });
    const events: string[] = [];
    const opens: number[] = [];
    const conn = new FeedConnection({
      url: server.url,
      clock: new MonotonicClock(),
      silenceMs: 300,
      heartbeat: { text: 'ping', intervalMs: 100, whenIdle: true },
      isHeartbeat: (t) => t === 'pong',
      backoff: { baseMs: 100, maxMs: 400 },
      handlers: {
        onOpen: () => opens.push(performance.now()),
        onMessage: (_ts, text, hb) => events.push(hb ? 'hb' : text),
        onSent: () => {},
        onClose: (_ts, reason) => events.push(`close:${reason}`),
        onError: () => {},
      },
    });
    const t0 = performance.now();
    conn.start();
    while (opens.length < 2 && performance.now() - t0 < 5000) await sleep(20);
    await conn.stop();
    await server.close();
    expect(opens.length).toBe(2);
    expect(got.filter((g) => g === '1:ping').length).toBeGreaterThanOrEqual(2); // idle pings on connection 1
    expect(events).toContain('hb'); // pongs seen, yet...
    expect(events.find((e) => e.startsWith('close:'))).toBe('close:no data for 300 ms'); // ...silence killed it
    expect(opens[1]! - opens[0]!).toBeGreaterThanOrEqual(300 + 100 - 20); // silence + first backoff step
    expect(conn.losses).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------
// Against the exchange simulator.

// The simulator replays the bundled dataset, which is committed: these tests always run.

type SimModule = typeof import('../src/exchange-sim/server.js');
type Sim = Awaited<ReturnType<SimModule['startExchangeSim']>>;
type SimOptions = Parameters<SimModule['startExchangeSim']>[0];

async function loadSim(): Promise<SimModule> {
  return (await import('../src/exchange-sim/server.js')) as SimModule;
}

/** What the source dataset holds for binance-usdm BTCUSDT. */
interface Source {
  tradeIds: bigint[];
  frames: string[];
  /** Top-10 book text by update id, at every 25th depth message. */
  books: Map<bigint, string>;
}

function bookText(b: BookBuilder, s: number): string {
  const book = b.book(s);
  return JSON.stringify([book.bids.levels(10), book.asks.levels(10)]);
}

function readUsdmBtc(dir: string, sampleEvery = 0): { tradeIds: bigint[]; books: Map<bigint, string>; booksAt: (ids: Map<bigint, string>) => { compared: number; equal: number } } {
  const ds = openDataset(dir);
  const s = ds.streams.findIndex((x) => x.exchange === 'binance-usdm' && x.symbol === 'BTCUSDT');
  const tradeIds: bigint[] = [];
  const books = new Map<bigint, string>();
  const bb = new BookBuilder(ds.streams.length);
  let depthMsgs = 0;
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      bb.apply(b, i);
      if (b.stream[i] !== s) continue;
      const k = b.kind[i];
      if (k === EventKind.Trade) tradeIds.push(b.id[i]!);
      else if (sampleEvery > 0 && k === EventKind.BookLevel && b.flags[i]! & Flag.MessageEnd && bb.isValid(s)) {
        if (depthMsgs++ % sampleEvery === 0) books.set(b.id[i]!, bookText(bb, s));
      }
    }
  });
  return {
    tradeIds,
    books,
    booksAt: (want) => {
      const bb2 = new BookBuilder(ds.streams.length);
      let compared = 0;
      let equal = 0;
      ds.forEachEventBatch((b) => {
        for (let i = 0; i < b.length; i++) {
          bb2.apply(b, i);
          if (b.stream[i] !== s || !(b.flags[i]! & Flag.MessageEnd) || !bb2.isValid(s)) continue;
          if (b.kind[i] !== EventKind.BookLevel && b.kind[i] !== EventKind.BookSnapshot) continue;
          // The last row of one diff message: compare only there (several buffered diffs share a time).
          const id = b.id[i]!;
          const w = want.get(id);
          if (w === undefined) continue;
          compared++;
          if (w === bookText(bb2, s)) equal++;
          want.delete(id);
        }
      });
      return { compared, equal };
    },
  };
}

function rawFrames(dir: string, filter: (source: string, kind: number) => boolean): string[] {
  const out: string[] = [];
  openDataset(dir).forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) if (filter(b.source(i), b.kind[i]!)) out.push(b.data(i));
  });
  return out;
}

function countEvents(dir: string, kind: number, pred: (flags: number, size: number) => boolean = () => true): number {
  let n = 0;
  openDataset(dir).forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) if (b.kind[i] === kind && pred(b.flags[i]!, b.size[i]!)) n++;
  });
  return n;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const FAST: Partial<RecorderOptions> = {
  backoff: { baseMs: 50, maxMs: 400 },
  restBackoff: { baseMs: 50, maxMs: 400 },
  silenceMs: 2000,
  flushMs: 200,
};

interface Run {
  sim: Sim;
  rec: Recorder;
  out: string;
}

async function recordUsdm(simOpts: Partial<SimOptions>, recOpts: Partial<RecorderOptions> = {}): Promise<Run> {
  const { startExchangeSim } = await loadSim();
  const sim = await startExchangeSim({ dataset: DATASET, port: 0, speed: 'max', ...simOpts });
  const out = path.join(tempDir('latencylab-rec-'), 'ds');
  const rec = await startRecorder({
    exchange: 'binance-usdm',
    symbols: ['BTCUSDT'],
    out,
    url: sim.baseUrl('binance-usdm'),
    ...FAST,
    ...recOpts,
  });
  return { sim, rec, out };
}

const finish = finishRecording;

describe('recording the simulator', () => {
  let source: Source;
  let sourceBooks: ReturnType<typeof readUsdmBtc>;

  beforeAll(() => {
    sourceBooks = readUsdmBtc(DATASET, 25);
    source = {
      tradeIds: sourceBooks.tradeIds,
      books: sourceBooks.books,
      frames: rawFrames(DATASET, (src, kind) => src.startsWith('usdm_btcusdt') && kind === RawKind.Received),
    };
  }, 120_000);

  it('records at full speed exactly what the source holds: trades, books, raw frames', async () => {
    const run = await recordUsdm({});
    await finish(run);
    const st = run.rec.stats();
    expect(st.reconnects).toBe(0);
    expect(st.malformed).toBe(0);
    expect(st.gaps).toBe(0);
    const m = readManifest(run.out);
    expect(m.segments.every((s) => s.closed)).toBe(true);
    // Trades: the same ids in the same order.
    const rec = readUsdmBtc(run.out);
    expect(rec.tradeIds.length).toBe(source.tradeIds.length);
    expect(rec.tradeIds).toEqual(source.tradeIds);
    // Raw frames: byte for byte.
    const frames = rawFrames(run.out, (_s, kind) => kind === RawKind.Received);
    expect(frames.length).toBe(source.frames.length);
    expect(frames).toEqual(source.frames);
    // One REST snapshot, kept raw, applied.
    const rest = rawFrames(run.out, (_s, kind) => kind === RawKind.Rest);
    expect(rest.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(rest[0]!)).toHaveProperty('lastUpdateId');
    expect(countEvents(run.out, EventKind.BookSnapshot, (f) => (f & Flag.FromRest) !== 0 && (f & Flag.SnapshotEnd) !== 0)).toBeGreaterThanOrEqual(1);
    // Books: the same top 10 levels after the same update ids.
    const want = new Map(source.books);
    const total = want.size;
    const { compared, equal } = readUsdmBtc(run.out).booksAt(want);
    expect(total).toBeGreaterThan(100);
    expect(compared).toBeGreaterThan(total * 0.9); // all but those before the recorder's first snapshot
    expect(equal).toBe(compared);
  }, 180_000);

  /** Trade ids recorded: in source order, and the ones missing form at most `runs` contiguous runs. */
  function missingRuns(recorded: bigint[]): { missing: number; runs: number; inOrder: boolean } {
    const pos = new Map(source.tradeIds.map((id, i) => [id, i]));
    let prev = -1;
    let inOrder = true;
    let missing = 0;
    let runs = 0;
    for (const id of recorded) {
      const p = pos.get(id);
      if (p === undefined || p <= prev) {
        inOrder = false;
        continue;
      }
      if (p > prev + 1) {
        missing += p - prev - 1;
        runs++;
      }
      prev = p;
    }
    if (prev < source.tradeIds.length - 1) {
      missing += source.tradeIds.length - 1 - prev;
      runs++;
    }
    return { missing, runs, inOrder };
  }

  it('drop: reconnects, marks the disconnect, resyncs the book over REST, loses only the outage', async () => {
    const run = await recordUsdm({ faults: [{ at: 3000, fault: { kind: 'drop' }, once: true }] });
    await finish(run);
    const st = run.rec.stats();
    expect(st.disconnects).toBe(1);
    expect(st.reconnects).toBe(1);
    expect(countEvents(run.out, EventKind.Disconnect)).toBe(2); // the drop, and the stop at the end
    expect(countEvents(run.out, EventKind.Reconnect)).toBe(1);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Disconnect).length).toBe(2);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Connect).length).toBe(2);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Rest).length).toBeGreaterThanOrEqual(2);
    expect(countEvents(run.out, EventKind.BookSnapshot, (f) => (f & Flag.SnapshotEnd) !== 0)).toBeGreaterThanOrEqual(2);
    const r = missingRuns(readUsdmBtc(run.out).tradeIds);
    expect(r.inOrder).toBe(true);
    expect(r.runs).toBeLessThanOrEqual(1); // only the frames played while the socket was down
    // Every frame the simulator sent (bar any in flight when it cut the socket) was recorded.
    expect(st.messages).toBeGreaterThanOrEqual(run.sim.stats().messagesSent - 20);
    expect(st.messages).toBeLessThanOrEqual(run.sim.stats().messagesSent);
    // After the resync the books agree with the source again.
    const want = new Map(source.books);
    const { compared, equal } = readUsdmBtc(run.out).booksAt(want);
    expect(compared).toBeGreaterThan(50);
    expect(equal).toBe(compared);
  }, 180_000);

  it('skip: writes a Gap row and resyncs over REST without reconnecting', async () => {
    const run = await recordUsdm({ faults: [{ at: 3000, fault: { kind: 'skip', count: 3 }, once: true }] });
    await finish(run);
    const st = run.rec.stats();
    expect(st.reconnects).toBe(0);
    expect(st.messages).toBe(run.sim.stats().messagesSent);
    expect(st.gaps).toBeGreaterThanOrEqual(1);
    expect(countEvents(run.out, EventKind.Gap, (_f, size) => size === GapReason.Sequence)).toBeGreaterThanOrEqual(1);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Rest).length).toBeGreaterThanOrEqual(2);
    // No trade is lost: skip drops depth messages only.
    expect(readUsdmBtc(run.out).tradeIds).toEqual(source.tradeIds);
    const want = new Map(source.books);
    const { compared, equal } = readUsdmBtc(run.out).booksAt(want);
    expect(compared).toBeGreaterThan(50);
    expect(equal).toBe(compared);
  }, 180_000);

  it('malformed: the frame is counted and kept raw, the recording goes on', async () => {
    const run = await recordUsdm({ faults: [{ at: 3000, fault: { kind: 'malformed' }, once: true }] });
    await finish(run);
    const st = run.rec.stats();
    expect(st.malformed).toBe(1);
    expect(st.reconnects).toBe(0);
    const frames = rawFrames(run.out, (_s, k) => k === RawKind.Received);
    const bad = frames.filter((f) => {
      try {
        JSON.parse(f);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBe(1);
    expect(frames.length).toBe(source.frames.length);
    // The cut frame is the source frame's first half.
    const k = frames.indexOf(bad[0]!);
    expect(source.frames[k]!.startsWith(bad[0]!)).toBe(true);
  }, 180_000);

  it('stall: the silent connection is replaced after the silence timeout', async () => {
    const run = await recordUsdm({ faults: [{ at: 3000, fault: { kind: 'stall', ms: 5000 }, once: true }] }, { silenceMs: 500 });
    const t0 = performance.now();
    await until(() => run.rec.stats().reconnects >= 1, 20_000, 'a reconnect');
    expect(performance.now() - t0).toBeLessThan(5000); // well before the stall ends
    await finish(run);
    const st = run.rec.stats();
    // (Once the dataset has been played the silence goes on, and so do the reconnects.)
    expect(st.disconnects).toBeGreaterThanOrEqual(1);
    const reasons = rawFrames(run.out, (_s, k) => k === RawKind.Disconnect);
    expect(reasons[0]).toBe('no data for 500 ms');
    expect(countEvents(run.out, EventKind.BookSnapshot, (f) => (f & Flag.SnapshotEnd) !== 0)).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('24h-close: the notice is kept and the recorder reconnects', async () => {
    const run = await recordUsdm({ faults: [{ at: 3000, fault: { kind: '24h-close' }, once: true }] });
    await finish(run);
    const st = run.rec.stats();
    expect(st.reconnects).toBe(1);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Received).some((f) => f.includes('serverShutdown'))).toBe(true);
    expect(rawFrames(run.out, (_s, k) => k === RawKind.Disconnect)[0]).toMatch(/code 1000/);
    const r = missingRuns(readUsdmBtc(run.out).tradeIds);
    expect(r.inOrder).toBe(true);
    expect(r.runs).toBeLessThanOrEqual(1);
  }, 180_000);

  it('REST 429: waits for Retry-After, then the snapshot goes through', async () => {
    const { startExchangeSim } = await loadSim();
    const sim = await startExchangeSim({ dataset: DATASET, port: 0, speed: 50 });
    sim.fault({ kind: 'rest-429', count: 2 });
    const out = path.join(tempDir('latencylab-rec-'), 'ds');
    const rec = await startRecorder({ exchange: 'binance-usdm', symbols: ['BTCUSDT'], out, url: sim.baseUrl('binance-usdm'), ...FAST });
    const run = { sim, rec, out };
    await finish(run);
    const st = rec.stats();
    expect(st.snapshots.rate_limited).toBe(2);
    expect(st.snapshots.requested).toBe(3);
    expect(sim.stats().rest429).toBe(2);
    expect(rec.problems.counts.rate_limited).toBe(2);
    expect(countEvents(out, EventKind.BookSnapshot, (f) => (f & Flag.SnapshotEnd) !== 0)).toBe(1);
    // The wait cost diffs, not correctness: the book agrees with the source after the snapshot.
    const want = new Map(source.books);
    const { compared, equal } = readUsdmBtc(out).booksAt(want);
    expect(compared).toBeGreaterThan(50);
    expect(equal).toBe(compared);
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------
// The CLI as a child process: kill -9 and SIGINT.

const BIN = path.join(ROOT, 'bin/latencylab.js');
const DIST_CMD = path.join(ROOT, 'dist/src/cli/record-command.js');

function ensureBuilt(): void {
  const srcNewest = ['src/recorder/recorder.ts', 'src/recorder/connection.ts', 'src/cli/record-command.ts', 'src/cli/main.ts']
    .map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs)
    .reduce((a, b) => Math.max(a, b));
  if (fs.existsSync(DIST_CMD) && fs.statSync(DIST_CMD).mtimeMs >= srcNewest && fs.existsSync(path.join(ROOT, 'dist/src/exchange-sim/server.js'))) return;
  spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { stdio: 'ignore' });
}

function spawnRecorder(sim: Sim, out: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'record', '--exchange', 'binance-usdm', '--symbols', 'BTCUSDT', '--out', out, '--url', sim.baseUrl('binance-usdm'), '--quiet'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

describe('the record command', () => {
  const children: ChildProcess[] = [];
  beforeAll(() => ensureBuilt(), 180_000);
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('kill -9 leaves a readable dataset holding all but the last second', async () => {
    const { startExchangeSim } = await loadSim();
    const sim = await startExchangeSim({ dataset: DATASET, port: 0, speed: 2 });
    const out = path.join(tempDir('latencylab-rec-'), 'ds');
    const child = spawnRecorder(sim, out);
    children.push(child);
    // The sim's count of frames sent, every 50 ms.
    const sent: { t: number; n: number }[] = [];
    const sampler = setInterval(() => sent.push({ t: performance.now(), n: sim.stats().messagesSent }), 50);
    await until(() => sim.stats().messagesSent > 0, 20_000, 'the recorder to subscribe');
    await sleep(3000);
    const killedAt = performance.now();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    clearInterval(sampler);
    const sentTotal = sim.stats().messagesSent;
    await sim.close();

    const ds = openDataset(out);
    let frames = 0;
    ds.forEachRawBatch((b) => {
      for (let i = 0; i < b.length; i++) if (b.kind[i] === RawKind.Received) frames++;
    });
    let events = 0;
    ds.forEachEventBatch((b) => (events += b.length));
    const oneSecondBefore = [...sent].reverse().find((s) => s.t <= killedAt - 1000)!.n;
    expect(sentTotal).toBeGreaterThan(1000);
    expect(frames).toBeGreaterThanOrEqual(oneSecondBefore);
    expect(frames).toBeLessThanOrEqual(sentTotal);
    expect(events).toBeGreaterThan(0);
    expect(ds.manifest.segments.some((s) => !s.closed)).toBe(true); // it never got to close
  }, 120_000);

  it('SIGINT closes the dataset cleanly', async () => {
    const { startExchangeSim } = await loadSim();
    const sim = await startExchangeSim({ dataset: DATASET, port: 0, speed: 2 });
    const out = path.join(tempDir('latencylab-rec-'), 'ds');
    const child = spawnRecorder(sim, out);
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d.toString()));
    await until(() => sim.stats().messagesSent > 0, 20_000, 'the recorder to subscribe');
    await sleep(1500);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await sim.close();
    expect(code, stderr).toBe(0);
    const m = readManifest(out);
    expect(m.segments.length).toBeGreaterThan(0);
    expect(m.segments.every((s) => s.closed)).toBe(true);
    expect(m.source).toMatchObject({ recorder: 'binance-usdm' });
    expect(stderr).toMatch(/recorded \d+ messages/);
    const ds = openDataset(out);
    expect(ds.problems).toEqual([]);
    let disconnects = 0;
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) if (b.kind[i] === EventKind.Disconnect) disconnects++;
    });
    expect(disconnects).toBe(1); // the stop is marked too
  }, 120_000);
});
