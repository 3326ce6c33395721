// The exchange simulator over real loopback sockets, with a plain `ws` client: Binance streams and REST
// snapshots, Bybit and OKX subscriptions and books, every fault, the replay clock. Nothing leaves 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startExchangeSim, type ExchangeSim } from '../src/exchange-sim/server.js';
import type { ExchangeSimOptions } from '../src/exchange-sim/types.js';
import { parseFaultSpec } from '../src/cli/exchange-sim-command.js';
import { openDataset } from '../src/data/reader.js';
import { RawKind } from '../src/data/types.js';
import { runImport } from '../src/cli/import-command.js';
import { OkxBook } from '../src/exchanges/okx/book.js';
import { okxChecksum } from '../src/exchanges/okx/checksum.js';
import { CRYPTOFEED, tempDir, withCaptures } from './helpers.js';

const BINANCE_DATASET = path.resolve(__dirname, '../datasets/binance-2024-08-08');

const sims: ExchangeSim[] = [];
async function sim(opts: Partial<ExchangeSimOptions> & { dataset: string }): Promise<ExchangeSim> {
  const s = await startExchangeSim({ port: 0, ...opts });
  sims.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

/** A client that records every frame (text) with its arrival time, and how it closed. */
class Client {
  readonly ws: WebSocket;
  readonly frames: { text: string; at: number }[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(url: string, opts: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (d) => {
      this.frames.push({ text: d.toString(), at: performance.now() });
      this.waiters = this.waiters.filter((w) => {
        if (this.frames.length >= w.n) w.resolve();
        return this.frames.length < w.n;
      });
    });
    this.ws.on('ping', () => this.pings++);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Resolves once `n` frames have arrived (or rejects after `ms`). */
  async frameCount(n: number, ms = 20_000): Promise<void> {
    if (this.frames.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${this.frames.length} of ${n} frames after ${ms} ms`)), ms);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  /** Waits until some frame satisfies `pred`; returns its index. */
  async until(pred: (text: string) => boolean, ms = 20_000): Promise<number> {
    const deadline = performance.now() + ms;
    for (let from = 0; ; ) {
      for (; from < this.frames.length; from++) if (pred(this.frames[from]!.text)) return from;
      if (performance.now() > deadline) throw new Error(`no matching frame in ${ms} ms (${this.frames.length} frames)`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  json(i: number): any {
    return JSON.parse(this.frames[i]!.text);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The first `n` recorded frames of `streams` (combined-stream names) of one exchange, in order. */
function recordedFrames(dir: string, exchange: string, streams: string[], n: number): string[] {
  const ds = openDataset(dir);
  const out: string[] = [];
  const prefixes = streams.map((s) => `{"stream":"${s}"`);
  ds.forEachRawBatch((b) => {
    for (let i = 0; i < b.length && out.length < n; i++) {
      if (b.kind[i] !== RawKind.Received || b.exchange(i) !== exchange) continue;
      const d = b.data(i);
      if (prefixes.some((p) => d.startsWith(p))) out.push(d);
    }
  });
  return out;
}

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url);
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: JSON.parse(text) };
}

type Level = [string, string];

describe('exchange-sim: Binance', () => {
  it('combined stream: SUBSCRIBE is acked, then the recorded frames of those streams, byte for byte and in order', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max' });
    expect(s.exchanges.sort()).toEqual(['binance-spot', 'binance-usdm']);
    const c = new Client(`${s.baseUrl('binance-spot')}/stream`);
    await c.opened;
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@depth@100ms', 'btcusdt@trade'], id: 1 });
    const N = 400;
    await c.frameCount(N + 1);
    expect(c.frames[0]!.text).toBe('{"result":null,"id":1}');
    const want = recordedFrames(BINANCE_DATASET, 'binance-spot', ['btcusdt@depth@100ms', 'btcusdt@trade'], N);
    expect(want.length).toBe(N);
    expect(c.frames.slice(1, N + 1).map((f) => f.text)).toEqual(want);
    c.close();
  });

  it('raw /ws/<stream> sends bare payloads; another depth speed is served under the client\'s name', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max' });
    const raw = new Client(`${s.baseUrl('binance-usdm')}/ws/btcusdt@depth@0ms`);
    const alias = new Client(`${s.baseUrl('binance-usdm')}/public/stream?streams=btcusdt@depth`);
    await Promise.all([raw.opened, alias.opened]);
    await Promise.all([raw.frameCount(20), alias.frameCount(20)]);
    const want = recordedFrames(BINANCE_DATASET, 'binance-usdm', ['btcusdt@depth@0ms'], 20);
    for (let i = 0; i < 20; i++) {
      const data = JSON.parse(want[i]!).data;
      expect(raw.json(i)).toEqual(data);
      expect(alias.json(i)).toEqual({ stream: 'btcusdt@depth', data });
    }
    raw.close();
    alias.close();
  });

  it('LIST_SUBSCRIPTIONS, UNSUBSCRIBE, SET_PROPERTY and errors', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 1 });
    const c = new Client(`${s.baseUrl('binance-spot')}/ws`);
    await c.opened;
    c.send({ method: 'SUBSCRIBE', params: ['ethusdt@trade', 'btcusdt@bookTicker'], id: 7 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 8 });
    c.send({ method: 'UNSUBSCRIBE', params: ['ethusdt@trade'], id: 9 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 10 });
    c.send({ method: 'GET_PROPERTY', params: ['combined'], id: 11 });
    c.send({ method: 'FROB', id: 12 });
    c.send('not json');
    const replies: any[] = [];
    const deadline = performance.now() + 10_000;
    while (replies.length < 7 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      replies.length = 0;
      for (const f of c.frames) {
        const m = JSON.parse(f.text);
        if ('result' in m || 'code' in m) replies.push(m);
      }
    }
    expect(replies[0]).toEqual({ result: null, id: 7 });
    expect(replies[1]).toEqual({ result: ['ethusdt@trade', 'btcusdt@bookTicker'], id: 8 });
    expect(replies[2]).toEqual({ result: null, id: 9 });
    expect(replies[3]).toEqual({ result: ['btcusdt@bookTicker'], id: 10 });
    expect(replies[4]).toEqual({ result: false, id: 11 });
    expect(replies[5].code).toBe(2);
    expect(replies[5].id).toBe(12);
    expect(replies[6].code).toBe(3);
    c.close();
  });

  it('server pings are answered by ws\'s automatic pong; a client that never answers is cut off', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 1, binancePingMs: 40 });
    const polite = new Client(`${s.baseUrl('binance-spot')}/ws/btcusdt@trade`);
    const silent = new Client(`${s.baseUrl('binance-usdm')}/ws/btcusdt@trade`, { autoPong: false });
    await Promise.all([polite.opened, silent.opened]);
    const closed = await silent.closed;
    expect(closed.code).toBe(1006);
    expect(silent.pings).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(polite.pings).toBeGreaterThanOrEqual(5);
    expect(polite.ws.readyState).toBe(WebSocket.OPEN);
    polite.close();
  });

  /** Follow Binance's sync procedure against the simulator and check the book against a second snapshot. */
  async function syncAndCompare(exchange: 'binance-spot' | 'binance-usdm') {
    const futures = exchange === 'binance-usdm';
    const stream = futures ? 'btcusdt@depth@0ms' : 'btcusdt@depth@100ms';
    const s = await sim({ dataset: BINANCE_DATASET, speed: 10 });
    const c = new Client(`${s.baseUrl(exchange)}/ws/${stream}`);
    await c.opened;
    await c.frameCount(3);
    const restPath = futures ? '/fapi/v1/depth' : '/api/v3/depth';
    const snap = await getJson(`${s.restUrl(exchange)}${restPath}?symbol=BTCUSDT&limit=1000`);
    expect(snap.status).toBe(200);
    const L: number = snap.body.lastUpdateId;
    if (futures) {
      expect(typeof snap.body.E).toBe('number');
      expect(typeof snap.body.T).toBe('number');
    } else expect(Object.keys(snap.body)).toEqual(['lastUpdateId', 'bids', 'asks']);
    // The book holds what the dataset's snapshot (1000 levels) and the diffs since left of it.
    expect(snap.body.bids.length).toBeGreaterThan(500);
    expect(snap.body.bids.length).toBeLessThanOrEqual(1000);
    // The first diff the client keeps bridges the snapshot, exactly per Binance's rule.
    const first = await c.until((t) => {
      const d = JSON.parse(t);
      return futures ? d.u >= L : d.u > L;
    });
    const d0 = c.json(first);
    if (futures) expect((d0.U <= L && L <= d0.u) || d0.pu === L).toBe(true);
    else expect(d0.U <= L + 1 && L + 1 <= d0.u).toBe(true);
    // The diff the snapshot includes last was already sent when the snapshot was taken.
    expect(c.frames.slice(0, first + 1).some((f) => JSON.parse(f.text).u === L)).toBe(true);

    const bids = new Map<string, string>(snap.body.bids.map((l: Level) => [l[0], l[1]]));
    const asks = new Map<string, string>(snap.body.asks.map((l: Level) => [l[0], l[1]]));
    const apply = (d: any) => {
      for (const [p, q] of d.b as Level[]) Number(q) === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of d.a as Level[]) Number(q) === 0 ? asks.delete(p) : asks.set(p, q);
    };
    let prevU = L;
    let i = first;
    const applyUntil = async (u: number) => {
      while (prevU < u) {
        await c.frameCount(i + 1);
        const d = c.json(i++);
        if (i - 1 > first) {
          if (futures) expect(d.pu).toBe(prevU);
          else expect(d.U).toBe(prevU + 1);
        }
        apply(d);
        prevU = d.u;
      }
    };
    await new Promise((r) => setTimeout(r, 300));
    const snap2 = await getJson(`${s.restUrl(exchange)}${restPath}?symbol=BTCUSDT&limit=20`);
    expect(snap2.body.lastUpdateId).toBeGreaterThan(L);
    await applyUntil(snap2.body.lastUpdateId);
    expect(prevU).toBe(snap2.body.lastUpdateId);
    const top = (m: Map<string, string>, dir: 1 | -1) => [...m].sort((a, b) => dir * (Number(b[0]) - Number(a[0]))).slice(0, 20);
    const why = `snapshot ${L} (+${i - first} diffs) vs snapshot ${snap2.body.lastUpdateId}`;
    expect(top(bids, 1), why).toEqual(snap2.body.bids);
    expect(top(asks, -1), why).toEqual(snap2.body.asks);
    c.close();
    return { L, diffsApplied: i - first };
  }

  it('spot REST depth: lastUpdateId bridges the next diff (U <= lastUpdateId+1 <= u) and the book matches a later snapshot', async () => {
    const r = await syncAndCompare('binance-spot');
    expect(r.diffsApplied).toBeGreaterThan(1);
  });

  it('USD-M REST depth: pu/U rule bridges, E/T present, book matches a later snapshot', async () => {
    const r = await syncAndCompare('binance-usdm');
    expect(r.diffsApplied).toBeGreaterThan(1);
  });

  it('REST errors: missing and unknown symbol, unknown path', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 1 });
    const a = await getJson(`${s.restUrl('binance-spot')}/api/v3/depth`);
    expect([a.status, a.body.code]).toEqual([400, -1102]);
    const b = await getJson(`${s.restUrl('binance-spot')}/api/v3/depth?symbol=NOPEUSDT`);
    expect([b.status, b.body.code]).toEqual([400, -1121]);
    const c = await fetch(`${s.restUrl('binance-usdm')}/api/v3/depth?symbol=BTCUSDT`);
    expect(c.status).toBe(404);
    await c.text();
  });

  it('speed max sends the whole USD-M BTCUSDT stream and `done` resolves', async () => {
    const want = { n: 0 };
    const ds = openDataset(BINANCE_DATASET);
    ds.forEachRawBatch((b) => {
      for (let i = 0; i < b.length; i++) {
        if (b.kind[i] === RawKind.Received && b.exchange(i) === 'binance-usdm' && b.data(i).startsWith('{"stream":"btcusdt@')) want.n++;
      }
    });
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max' });
    const c = new Client(`${s.baseUrl('binance-usdm')}/stream?streams=btcusdt@depth@0ms/btcusdt@trade/btcusdt@bookTicker`);
    await c.opened;
    const started = performance.now();
    await s.done;
    await c.frameCount(want.n, 5_000);
    const seconds = (performance.now() - started) / 1000;
    expect(c.frames.length).toBe(want.n);
    expect(want.n).toBe(93_953);
    const st = s.stats();
    expect(st.finished).toBe(true);
    expect(st.messagesSent).toBe(want.n);
    expect(seconds).toBeLessThan(30);
    c.close();
  });
});

describe('exchange-sim: faults', () => {
  const usdmDepth = (s: ExchangeSim) => `${s.baseUrl('binance-usdm')}/stream?streams=btcusdt@depth@0ms`;

  it('drop: the connection ends without a close frame', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max', faults: [{ at: 5, fault: { kind: 'drop' } }] });
    const c = new Client(usdmDepth(s));
    const closed = await c.closed;
    expect(closed.code).not.toBe(1000);
    expect(closed.code).toBe(1006);
    expect(c.frames.length).toBe(5);
  });

  it('skip: the client sees a jump in pu/u', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max', faults: [{ at: 4, fault: { kind: 'skip', count: 3 } }] });
    const c = new Client(usdmDepth(s));
    await c.frameCount(10);
    const d = c.frames.slice(0, 10).map((f) => JSON.parse(f.text).data);
    for (let i = 1; i < 10; i++) {
      if (i === 4) expect(d[i].pu).not.toBe(d[i - 1].u);
      else expect(d[i].pu).toBe(d[i - 1].u);
    }
    const want = recordedFrames(BINANCE_DATASET, 'binance-usdm', ['btcusdt@depth@0ms'], 10);
    expect(c.frames[4]!.text).toBe(want[7]);
    c.close();
  });

  it('malformed: one frame is not valid JSON, the stream goes on', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max', faults: [{ at: 3, fault: { kind: 'malformed' } }] });
    const c = new Client(usdmDepth(s));
    await c.frameCount(6);
    const bad = c.frames.slice(0, 6).map((f, i) => {
      try {
        JSON.parse(f.text);
        return -1;
      } catch {
        return i;
      }
    }).filter((i) => i >= 0);
    expect(bad).toEqual([3]);
    c.close();
  });

  it('stall: nothing for the given time, the socket stays open, then the stream resumes', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max', faults: [{ at: 10, fault: { kind: 'stall', ms: 400 } }] });
    const c = new Client(usdmDepth(s));
    await c.frameCount(20);
    const gap = c.frames[10]!.at - c.frames[9]!.at;
    expect(gap).toBeGreaterThanOrEqual(380);
    for (let i = 1; i < 10; i++) expect(c.frames[i]!.at - c.frames[i - 1]!.at).toBeLessThan(200);
    // Nothing was lost: the frames after the stall continue the chain.
    expect(c.json(10).data.pu).toBe(c.json(9).data.u);
    c.close();
  });

  it('24h-close: the serverShutdown notice, then close code 1000', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max', faults: [{ at: 5, fault: { kind: '24h-close' } }] });
    const c = new Client(usdmDepth(s));
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(c.frames.length).toBe(6);
    const notice = c.json(5);
    expect(notice.stream).toBe('!serverShutdown');
    expect(notice.data.e).toBe('serverShutdown');
    expect(typeof notice.data.E).toBe('number');
  });

  it('rest-429: the next N REST requests get 429 with Retry-After and code -1003', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max' });
    const c = new Client(usdmDepth(s));
    await c.frameCount(1);
    s.fault({ kind: 'rest-429', count: 2 });
    const url = `${s.restUrl('binance-usdm')}/fapi/v1/depth?symbol=BTCUSDT&limit=5`;
    for (let k = 0; k < 2; k++) {
      const r = await getJson(url);
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.code).toBe(-1003);
      expect(r.body.msg).toMatch(/^Too many requests/);
    }
    const ok = await getJson(url);
    expect(ok.status).toBe(200);
    expect(ok.body.bids.length).toBe(5);
    expect(s.stats().rest429).toBe(2);
    c.close();
  });

  it('fault() injects on open connections; --fault specs parse', async () => {
    const s = await sim({ dataset: BINANCE_DATASET, speed: 'max' });
    const c = new Client(usdmDepth(s));
    await c.frameCount(3);
    s.fault({ kind: 'drop' });
    expect((await c.closed).code).toBe(1006);
    expect(parseFaultSpec('100:skip:5')).toEqual({ at: 100, fault: { kind: 'skip', count: 5 } });
    expect(parseFaultSpec('0:rest-429:3')).toEqual({ at: 0, fault: { kind: 'rest-429', count: 3 } });
    expect(parseFaultSpec('7:24h-close')).toEqual({ at: 7, fault: { kind: '24h-close' } });
    expect(parseFaultSpec('9:stall:250')).toEqual({ at: 9, fault: { kind: 'stall', ms: 250 } });
    expect(() => parseFaultSpec('x:drop')).toThrow(/expected/);
    expect(() => parseFaultSpec('1:explode')).toThrow(/unknown kind/);
  });
});

withCaptures('exchange-sim: Bybit and OKX (cryptofeed captures)', () => {
  let bybitDir = '';
  let okxDir = '';
  beforeAll(async () => {
    const dir = tempDir('latencylab-sim-');
    bybitDir = path.join(dir, 'bybit');
    okxDir = path.join(dir, 'okx');
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'BYBIT.jsonl.gz')], bybitDir);
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'OKX.jsonl.gz')], okxDir);
    expect(fs.existsSync(path.join(okxDir, 'manifest.json'))).toBe(true);
  });

  const withConnId = (text: string) => text.replace(/"conn_id":"[^"]+"/, '"conn_id":"X"').replace(/"connId":"[^"]+"/, '"connId":"X"');

  it('Bybit linear and spot: subscribe acks and pongs in each category\'s exact shape', async () => {
    const s = await sim({ dataset: bybitDir, speed: 1 });
    expect(s.exchanges.sort()).toEqual(['bybit-linear', 'bybit-spot']);
    const lin = new Client(`${s.baseUrl('bybit-linear')}/v5/public/linear`);
    const spot = new Client(`${s.baseUrl('bybit-spot')}/v5/public/spot`);
    await Promise.all([lin.opened, spot.opened]);
    lin.send({ op: 'subscribe', args: ['publicTrade.BTCUSDT'] });
    lin.send({ req_id: '100001', op: 'ping' });
    spot.send({ req_id: '10001', op: 'subscribe', args: ['publicTrade.BTCUSDT'] });
    spot.send({ op: 'ping' });
    spot.send({ op: 'subscribe', args: ['orderbook.7.BTCUSDT'] });
    await Promise.all([lin.frameCount(2), spot.frameCount(3)]);
    expect(withConnId(lin.frames[0]!.text)).toBe('{"success":true,"ret_msg":"","conn_id":"X","req_id":"","op":"subscribe"}');
    expect(withConnId(lin.frames[1]!.text)).toBe('{"success":true,"ret_msg":"pong","conn_id":"X","req_id":"100001","op":"ping"}');
    expect(withConnId(spot.frames[0]!.text)).toBe('{"success":true,"ret_msg":"subscribe","conn_id":"X","req_id":"10001","op":"subscribe"}');
    expect(withConnId(spot.frames[1]!.text)).toBe('{"success":true,"ret_msg":"pong","conn_id":"X","op":"ping"}');
    expect(spot.json(2).success).toBe(false);
    lin.close();
    spot.close();
  });

  it('Bybit orderbook: a late subscriber gets a snapshot of the current book, then deltas with consecutive u, and ends with the same book as an early one', async () => {
    const s = await sim({ dataset: bybitDir, speed: 4 });
    const url = `${s.baseUrl('bybit-linear')}/v5/public/linear`;
    const early = new Client(url);
    await early.opened;
    early.send({ op: 'subscribe', args: ['orderbook.200.BTCUSDT'], req_id: 'a' });
    await early.until((t) => t.includes('"type":"delta"'));
    await new Promise((r) => setTimeout(r, 1500));
    const late = new Client(url);
    await late.opened;
    late.send({ op: 'subscribe', args: ['orderbook.50.BTCUSDT'], req_id: 'b' });
    await late.frameCount(12);
    expect(late.json(0).success).toBe(true);
    const snap = late.json(1);
    expect(Object.keys(snap)).toEqual(['topic', 'type', 'ts', 'data', 'cts']);
    expect(snap.topic).toBe('orderbook.50.BTCUSDT');
    expect(snap.type).toBe('snapshot');
    expect(snap.data.b.length).toBe(50);
    expect(snap.data.a.length).toBe(50);
    expect(typeof snap.data.seq).toBe('number');
    let u = snap.data.u;
    for (let i = 2; i < 12; i++) {
      const d = late.json(i);
      expect(d.type).toBe('delta');
      expect(d.topic).toBe('orderbook.50.BTCUSDT');
      expect(d.data.u).toBe(++u);
    }
    // Both books agree (top 50) at the late client's last u.
    const book = (frames: any[]) => {
      const b = new Map<string, string>();
      const a = new Map<string, string>();
      for (const f of frames) {
        if (f.type === 'snapshot') {
          b.clear();
          a.clear();
        }
        for (const [p, q] of f.data.b) Number(q) === 0 ? b.delete(p) : b.set(p, q);
        for (const [p, q] of f.data.a) Number(q) === 0 ? a.delete(p) : a.set(p, q);
      }
      return {
        b: [...b].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, 50),
        a: [...a].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, 50),
      };
    };
    const lateFrames = late.frames.slice(1, 12).map((f) => JSON.parse(f.text));
    await early.until((t) => t.includes(`"u":${u},`));
    const earlyFrames = early.frames.map((f) => JSON.parse(f.text)).filter((m) => m.topic);
    const upto = earlyFrames.findIndex((m) => m.data.u === u);
    expect(book(earlyFrames.slice(0, upto + 1))).toEqual(book(lateFrames));
    early.close();
    late.close();
  });

  it('OKX: subscribe event ack, text ping/pong, a snapshot whose checksum verifies, then updates whose recorded checksums verify', async () => {
    const s = await sim({ dataset: okxDir, speed: 2 });
    expect(s.exchanges).toEqual(['okx']);
    const url = `${s.baseUrl('okx')}/ws/v5/public`;
    const starter = new Client(url);
    await starter.opened;
    starter.send({ op: 'subscribe', args: [{ channel: 'trades', instId: 'BTC-USDT' }] });
    await starter.frameCount(1);
    expect(withConnId(starter.frames[0]!.text)).toBe('{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"X"}');
    await new Promise((r) => setTimeout(r, 1000));
    const c = new Client(url);
    await c.opened;
    c.send('ping');
    c.send({ id: '1512', op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT' }] });
    await c.frameCount(3);
    expect(c.frames[0]!.text).toBe('pong');
    expect(withConnId(c.frames[1]!.text)).toBe('{"id":"1512","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"X"}');
    const snap = c.json(2);
    expect(snap.action).toBe('snapshot');
    expect(snap.arg).toEqual({ channel: 'books', instId: 'BTC-USDT' });
    const book = new OkxBook();
    const apply = (d: any) => {
      for (const l of d.bids) book.bids.set(l[0], l[1], Number(l[0]), Number(l[1]));
      for (const l of d.asks) book.asks.set(l[0], l[1], Number(l[0]), Number(l[1]));
    };
    apply(snap.data[0]);
    expect(okxChecksum(book)).toBe(snap.data[0].checksum);
    await c.frameCount(13);
    let verified = 0;
    for (let i = 3; i < 13; i++) {
      const m = c.json(i);
      expect(m.action).toBe('update');
      apply(m.data[0]);
      expect(okxChecksum(book)).toBe(m.data[0].checksum);
      verified++;
    }
    expect(verified).toBe(10);
    c.send({ op: 'subscribe', args: [{ channel: 'nope', instId: 'BTC-USDT' }] });
    const err = await c.until((t) => t.includes('"event":"error"'));
    expect(c.json(err).code).toBe('60018');
    starter.close();
    c.close();
  });

  it('OKX 24h-close: notice 64008, then close 1000', async () => {
    const s = await sim({ dataset: okxDir, speed: 'max', faults: [{ at: 2, fault: { kind: '24h-close' } }] });
    const c = new Client(`${s.baseUrl('okx')}/ws/v5/public`);
    await c.opened;
    c.send({ op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT' }] });
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(c.json(c.frames.length - 1).code).toBe('64008');
  });
});
