// A seeded fuzz of the exchange simulator's client messages. Real client frames of every simulated exchange
// (subscribe, unsubscribe, ping, property requests, REST requests; shapes from src/exchanges/*/sim-server.ts
// and shared/docs/exchange-protocols.md) are mutated by a seeded generator and sent over real loopback
// sockets to a simulator started in-process. After each frame the lane sends a probe its exchange must
// answer; everything that arrives before the probe's answer is the case's response.
//
// Counted: crashes (a handler exception, an uncaught exception, a connection closed that should not have
// been, a probe not answered within PROBE_TIMEOUT_MS), cases slower than SLOW_MS (frame sent to probe
// answered), and responses that are not valid JSON in one of the exchange's shapes. Case i is generated
// from (seed, i) alone, so an example's case number reproduces it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { DatasetWriter } from '../data/writer.js';
import { EventKind, Flag, type ExchangeId, type MarketType } from '../data/types.js';
import { NS_PER_MS } from '../data/time.js';
import { createRng, type Sfc32 } from '../simulation/random.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, startExchangeSim, type ExchangeSim } from '../exchange-sim/server.js';
import type { FuzzReport } from './report.js';

export type { FuzzReport } from './report.js';

/** A case slower than this (frame sent to probe answered) is counted as slow. */
export const SLOW_MS = 100;
/** Times a case over SLOW_MS in the shared pass is run again alone; it is slow if it is slow every time. */
const RETIMES = 3;
/** A probe not answered in this time counts as a crash: the server stopped answering. */
const PROBE_TIMEOUT_MS = 5_000;
/** Examples kept in the report. */
const MAX_EXAMPLES = 10;
/** The longest text of a frame an example quotes. */
const EXAMPLE_CHARS = 160;

// ---- the dataset ----

const T0 = 1_723_075_200_000n * NS_PER_MS; // 2024-08-08T00:00:00Z

interface FuzzStream {
  exchange: ExchangeId;
  market: MarketType;
  symbol: string;
}

const STREAMS: FuzzStream[] = [
  { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' },
  { exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' },
  { exchange: 'binance-coinm', market: 'inverse', symbol: 'BTCUSD_PERP' },
  { exchange: 'bybit-spot', market: 'spot', symbol: 'BTCUSDT' },
  { exchange: 'bybit-linear', market: 'linear', symbol: 'BTCUSDT' },
  { exchange: 'okx', market: 'spot', symbol: 'BTC-USDT' },
];

/**
 * A small dataset (events only, so every exchange's frames are synthesized) with one stream per simulated
 * exchange: a 3-level snapshot, then 40 messages of book levels, trades and BBO pairs, 1 ms apart.
 */
export function writeFuzzDataset(dir: string): string {
  const w = new DatasetWriter(dir, { source: { importer: 'fuzz' } });
  const at = (ms: number) => T0 + BigInt(ms) * NS_PER_MS;
  for (const s of STREAMS) {
    const st = w.stream(s);
    let id = 100n;
    const levels: [number, number][] = [
      [1, 100],
      [1, 99.5],
      [1, 99],
      [-1, 101],
      [-1, 101.5],
      [-1, 102],
    ];
    levels.forEach(([side, px], i) => {
      const flags = (i === 0 ? Flag.SnapshotBegin : 0) | (i === levels.length - 1 ? Flag.SnapshotEnd | Flag.MessageEnd : 0);
      w.event(st, at(1), at(0), EventKind.BookSnapshot, side, px, 1 + i, id, -1n, flags);
    });
    for (let k = 1; k <= 40; k++) {
      const t = 1 + k;
      w.event(st, at(t), at(t - 1), EventKind.BookLevel, k % 2 ? 1 : -1, k % 2 ? 99.5 : 101.5, k, id + 1n, id, Flag.MessageEnd);
      id++;
      w.event(st, at(t), at(t - 1), EventKind.Trade, k % 3 ? 1 : -1, k % 3 ? 101 : 100, 0.5, BigInt(1000 + k), -1n, Flag.MessageEnd);
      w.event(st, at(t), at(t - 1), EventKind.BestBidOffer, 1, 100, 1, BigInt(k), -1n, 0);
      w.event(st, at(t), at(t - 1), EventKind.BestBidOffer, -1, 101, 4, BigInt(k), -1n, Flag.MessageEnd);
    }
  }
  w.close();
  return dir;
}

// ---- the lanes: one connection (or REST client) each ----

type Shape = (v: unknown) => boolean;
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const BINANCE_SHAPE: Shape = (v) =>
  obj(v) &&
  (('result' in v && 'id' in v) ||
    (typeof v.code === 'number' && typeof v.msg === 'string') ||
    typeof v.e === 'string' ||
    (typeof v.stream === 'string' && obj(v.data)) ||
    (typeof v.u === 'number' && typeof v.s === 'string'));
const BYBIT_SHAPE: Shape = (v) =>
  obj(v) && ((typeof v.success === 'boolean' && typeof v.op === 'string' && typeof v.conn_id === 'string') || (typeof v.topic === 'string' && 'data' in v));
const OKX_SHAPE: Shape = (v) => v === 'pong' || (obj(v) && (typeof v.event === 'string' || (obj(v.arg) && Array.isArray(v.data))));

interface WsLane {
  kind: 'ws';
  exchange: ExchangeId;
  path: string;
  shape: Shape;
  /** Real client frames of the exchange: what cases mutate. */
  corpus: string[];
  /** The probe for case n and how its answer is recognized. */
  probe(n: number): string;
  isProbeAnswer(text: string, n: number): boolean;
}

interface RestLane {
  kind: 'rest';
  exchange: ExchangeId;
  corpus: string[];
}

const binanceCorpus = (sym: string): string[] => [
  `{"method":"SUBSCRIBE","params":["${sym}@depth@100ms","${sym}@trade"],"id":1}`,
  `{"method":"SUBSCRIBE","params":["${sym}@bookTicker"],"id":"abc"}`,
  `{"method":"UNSUBSCRIBE","params":["${sym}@trade"],"id":2}`,
  '{"method":"LIST_SUBSCRIPTIONS","id":3}',
  '{"method":"SET_PROPERTY","params":["combined",true],"id":5}',
  '{"method":"GET_PROPERTY","params":["combined"],"id":6}',
];
const binanceLane = (exchange: ExchangeId, p: string, sym: string): WsLane => ({
  kind: 'ws',
  exchange,
  path: p,
  shape: BINANCE_SHAPE,
  corpus: binanceCorpus(sym),
  probe: (n) => `{"method":"GET_PROPERTY","params":["combined"],"id":"probe-${n}"}`,
  isProbeAnswer: (t, n) => t.includes(`"id":"probe-${n}"`),
});
const bybitCorpus = [
  '{"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"],"req_id":"10001"}',
  '{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}',
  '{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"],"req_id":"u1"}',
  '{"op":"ping","req_id":"100001"}',
  '{"op":"ping"}',
  '{"op":"subscribe","args":["tickers.BTCUSDT","kline.1.BTCUSDT"],"req_id":7}',
];
const bybitLane = (exchange: ExchangeId, category: string): WsLane => ({
  kind: 'ws',
  exchange,
  path: `/v5/public/${category}`,
  shape: BYBIT_SHAPE,
  corpus: bybitCorpus,
  probe: (n) => `{"op":"ping","req_id":"probe-${n}"}`,
  isProbeAnswer: (t, n) => t.includes(`"req_id":"probe-${n}"`),
});
const okxLane: WsLane = {
  kind: 'ws',
  exchange: 'okx',
  path: '/ws/v5/public',
  shape: OKX_SHAPE,
  corpus: [
    '{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}],"id":"1512"}',
    '{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"}]}',
    '{"op":"unsubscribe","args":[{"channel":"books","instId":"BTC-USDT"}],"id":"u2"}',
    'ping',
    '{"op":"subscribe","args":[{"channel":"tickers","instId":"ETH-USDT-SWAP"}]}',
  ],
  probe: (n) => `{"op":"unsubscribe","args":[{"channel":"status","instId":"p"}],"id":"probe${n}"}`,
  isProbeAnswer: (t, n) => t.includes(`"id":"probe${n}"`),
};

const LANES: (WsLane | RestLane)[] = [
  binanceLane('binance-spot', '/ws', 'btcusdt'),
  binanceLane('binance-usdm', '/stream', 'btcusdt'),
  binanceLane('binance-coinm', '/ws/btcusd_perp@depth', 'btcusd_perp'),
  bybitLane('bybit-spot', 'spot'),
  bybitLane('bybit-linear', 'linear'),
  okxLane,
  { kind: 'rest', exchange: 'binance-spot', corpus: ['/api/v3/depth?symbol=BTCUSDT&limit=5', '/api/v3/time', '/api/v3/ping'] },
  { kind: 'rest', exchange: 'binance-usdm', corpus: ['/fapi/v1/depth?symbol=BTCUSDT&limit=10', '/fapi/v1/time'] },
  { kind: 'rest', exchange: 'bybit-linear', corpus: ['/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=5'] },
  { kind: 'rest', exchange: 'okx', corpus: ['/api/v5/market/books?instId=BTC-USDT&sz=5'] },
];

// ---- mutations ----

const pick = <T>(rng: Sfc32, xs: readonly T[]): T => xs[rng.nextUint32() % xs.length]!;
const below = (rng: Sfc32, n: number): number => rng.nextUint32() % n;

const WORDS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY', 'subscribe', 'unsubscribe', 'ping', 'login', 'combined', 'books', 'trades', 'orderbook.1.BTCUSDT', 'btcusdt@depth', '__proto__', 'constructor', 'toString', ''];

/** A JSON value's text, from plain to hostile: deep nesting, huge strings, edge numbers, odd keys. */
function valueText(rng: Sfc32, maxPayload: number): string {
  switch (below(rng, 12)) {
    case 0: {
      const d = 1 + below(rng, 3) === 1 ? below(rng, 20_000) : below(rng, 200);
      return '['.repeat(d) + ']'.repeat(d);
    }
    case 1: {
      const d = below(rng, 10_000);
      return '{"a":'.repeat(d) + '1' + '}'.repeat(d);
    }
    case 2:
      return JSON.stringify('x'.repeat(below(rng, 4) === 0 ? maxPayload + below(rng, 1000) : below(rng, 600)));
    case 3:
      return pick(rng, ['-1', '0', '-0', '1e308', '1e-400', '18446744073709551616', '0.5', '9007199254740993', '1E+2', '-1e999']);
    case 4:
      return pick(rng, ['null', 'true', 'false', '""', '[]', '{}', '"\\u0000"', '"\\ud800"', '"é€😀"']);
    case 5:
      return JSON.stringify(pick(rng, WORDS));
    case 6:
      return `[${Array.from({ length: below(rng, 1500) }, (_, i) => JSON.stringify(`s${i}@trade`)).join(',')}]`;
    case 7:
      return `[${Array.from({ length: below(rng, 30) }, () => `{"channel":${JSON.stringify(pick(rng, WORDS))},"instId":${JSON.stringify(pick(rng, WORDS))}}`).join(',')}]`;
    case 8:
      return `{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}`;
    case 9:
      return String(rng.nextUint32() - 2 ** 31);
    case 10:
      return JSON.stringify(`${pick(rng, WORDS)}.${pick(rng, WORDS)}.${String.fromCharCode(33 + below(rng, 90)).repeat(below(rng, 50))}`);
    default:
      return `[${Array.from({ length: below(rng, 5) }, () => JSON.stringify(pick(rng, WORDS))).join(',')}]`;
  }
}

const MARK = '\u0001V\u0001';
/** MARK as JSON.stringify writes it: where the hostile value's text goes. */
const PLACEHOLDER = JSON.stringify(MARK);

/** One mutated frame of `base` (a JSON request or a bare word). */
function mutate(rng: Sfc32, base: string, maxPayload: number): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(base);
  } catch {
    parsed = undefined;
  }
  const mode = below(rng, 10);
  if (obj(parsed) && mode < 6) {
    // Replace (or add) one field with a hostile value, keeping the rest a real request.
    const keys = [...Object.keys(parsed), 'id', 'req_id', 'params', 'args', 'method', 'op', pick(rng, WORDS)];
    const k = pick(rng, keys);
    if (mode === 5 && Array.isArray(parsed[k]) && (parsed[k] as unknown[]).length > 0) {
      const arr = parsed[k] as unknown[];
      arr[below(rng, arr.length)] = MARK;
    } else {
      parsed[k] = MARK;
    }
    return JSON.stringify(parsed).replace(PLACEHOLDER, valueText(rng, maxPayload));
  }
  let text = base;
  const n = 1 + below(rng, 3);
  for (let i = 0; i < n; i++) {
    const at = below(rng, text.length + 1);
    switch (below(rng, 6)) {
      case 0:
        text = text.slice(0, at);
        break;
      case 1:
        text = text.slice(0, at) + String.fromCharCode(below(rng, 128)) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + text.slice(at + 1 + below(rng, 8));
        break;
      case 3:
        text = text.slice(0, at) + pick(rng, ['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\ud800']) + text.slice(at);
        break;
      case 4:
        text = text.slice(0, at) + text.slice(below(rng, text.length + 1));
        break;
      default:
        text = valueText(rng, maxPayload);
    }
  }
  return text;
}

/** A mutated REST request: method, path and query. */
function mutateRest(rng: Sfc32, base: string, maxPayload: number): { method: string; path: string; body: string | null } {
  const method = below(rng, 8) === 0 ? pick(rng, ['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) : 'GET';
  let p = base;
  switch (below(rng, 8)) {
    case 0:
      p = pick(rng, ['//%zz', '/%', '/%zz/api', '//', '/../../etc/passwd', '/?', '/%00', '/a/%E0%A4%A']) + (below(rng, 2) ? base : '');
      break;
    case 1:
      p = base.replace(/=[^&]*/, `=${encodeURIComponent(valueText(rng, 2000).slice(0, 2000))}`);
      break;
    case 2:
      p = `${base}&${pick(rng, ['limit', 'symbol', 'sz', 'category', 'instId'])}=${pick(rng, ['-1', '0', '99999999999999999999', 'abc', '1e9', '%zz', '', 'NaN', '5.5'])}`;
      break;
    case 3:
      p = base.slice(0, below(rng, base.length + 1)) || '/';
      break;
    case 4:
      p = base.replace(/symbol=[A-Z]+|instId=[A-Z-]+/, (m) => `${m.split('=')[0]}=${'Z'.repeat(below(rng, 3000))}`);
      break;
    default:
      break;
  }
  if (!p.startsWith('/')) p = `/${p}`;
  const body = method === 'POST' || below(rng, 20) === 0 ? 'x'.repeat(below(rng, 3) === 0 ? maxPayload + 1 : below(rng, 100)) : null;
  return { method, path: p, body };
}

// ---- running ----

interface Tally {
  crashes: number;
  slowCases: number;
  invalidValues: number;
  maxMs: number;
  /** Crashes and invalid answers first, then slow cases: the report keeps the first MAX_EXAMPLES. */
  examples: string[];
  slowExamples: string[];
  /** Cases timed again alone after being over SLOW_MS in the shared pass. */
  retimed?: number;
}

function note(t: Tally, what: string, caseNo: number, frame: string, slow = false): void {
  const list = slow ? t.slowExamples : t.examples;
  if (list.length >= MAX_EXAMPLES) return;
  const shown = frame.length > EXAMPLE_CHARS ? `${frame.slice(0, EXAMPLE_CHARS)}… (${frame.length} chars)` : frame;
  list.push(`case ${caseNo}: ${what}: ${JSON.stringify(shown)}`);
}

/** A WebSocket client that queues what arrives and knows when it closed. */
class LaneClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  inbox: string[] = [];
  closed = false;
  closeCode = 0;
  private wake: (() => void) | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (d) => {
      this.inbox.push(d.toString());
      this.wake?.();
    });
    this.ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake?.();
    });
  }

  /** Waits for a frame or the close, at most `ms`; false on timeout. */
  async next(ms: number): Promise<boolean> {
    if (this.inbox.length > 0 || this.closed) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve(true);
      };
    });
  }
}

/**
 * Where a case over SLOW_MS goes: `retime` collects it to be timed again alone (a first pass shares the
 * CPU with every lane and with the machine's other work); without it, it counts as slow.
 */
interface SlowPolicy {
  retime: number[] | null;
}

function slowCase(t: Tally, policy: SlowPolicy, n: number, ms: number, what: string, frame: string): void {
  if (ms <= SLOW_MS || policy.retime === null) t.maxMs = Math.max(t.maxMs, ms);
  if (ms <= SLOW_MS) return;
  if (policy.retime !== null) {
    policy.retime.push(n);
    return;
  }
  t.slowCases++;
  note(t, `${what}: ${ms.toFixed(1)} ms`, n, frame, true);
}

async function runWsLane(sim: ExchangeSim, lane: WsLane, caseNos: number[], seed: number, maxPayload: number, t: Tally, policy: SlowPolicy): Promise<void> {
  const url = `${sim.baseUrl(lane.exchange)}${lane.path}`;
  let c = new LaneClient(url);
  await c.opened;
  // Warm-up (not counted): each real frame once, so that the first cases do not time the JIT compiling.
  for (const f of lane.corpus) {
    c.ws.send(f);
    c.ws.send(lane.probe(-1));
    while (!c.inbox.some((x) => lane.isProbeAnswer(x, -1)) && !c.closed) await c.next(PROBE_TIMEOUT_MS);
    c.inbox = [];
  }
  for (const n of caseNos) {
    const rng = caseRng(seed, n);
    const frame = mutate(rng, pick(rng, lane.corpus), maxPayload);
    const binary = below(rng, 16) === 0;
    const started = performance.now();
    c.ws.send(binary ? Buffer.from(frame) : frame);
    c.ws.send(lane.probe(n));
    let answered = false;
    while (!answered) {
      if (!(await c.next(PROBE_TIMEOUT_MS))) {
        t.crashes++;
        note(t, `${lane.exchange}: no answer to the probe in ${PROBE_TIMEOUT_MS} ms`, n, frame);
        break;
      }
      while (c.inbox.length > 0) {
        const text = c.inbox.shift()!;
        if (lane.isProbeAnswer(text, n)) {
          answered = true;
          continue;
        }
        let v: unknown;
        try {
          v = text === 'pong' ? text : JSON.parse(text);
        } catch {
          v = undefined;
        }
        if (v === undefined || !lane.shape(v)) {
          t.invalidValues++;
          note(t, `${lane.exchange}: answer not in the exchange's shape: ${JSON.stringify(text.slice(0, 80))}`, n, frame);
        }
      }
      if (!answered && c.closed) {
        // A message over the payload limit closes the connection with 1009 (by design); anything else is a crash.
        if (!(c.closeCode === 1009 && Buffer.byteLength(frame) > maxPayload)) {
          t.crashes++;
          note(t, `${lane.exchange}: connection closed (${c.closeCode})`, n, frame);
        }
        break;
      }
    }
    slowCase(t, policy, n, performance.now() - started, lane.exchange, frame);
    if (c.closed || !answered) {
      c.ws.terminate();
      c = new LaneClient(url);
      await c.opened;
    }
  }
  c.ws.terminate();
}

async function runRestLane(sim: ExchangeSim, lane: RestLane, caseNos: number[], seed: number, maxPayload: number, t: Tally, policy: SlowPolicy): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(sim.restUrl(lane.exchange));
  // Warm-up (not counted): each real request once.
  const warm: { method: string; path: string; body: null }[] = lane.corpus.map((p) => ({ method: 'GET', path: p, body: null }));
  for (const n of [...warm.map((_, i) => -1 - i), ...caseNos]) {
    let req: { method: string; path: string; body: string | null };
    if (n < 0) req = warm[-1 - n]!;
    else {
      const rng = caseRng(seed, n);
      req = mutateRest(rng, pick(rng, lane.corpus), maxPayload);
    }
    const started = performance.now();
    const shown = `${req.method} ${req.path}${req.body !== null ? ` (body ${req.body.length} bytes)` : ''}`;
    const result = await new Promise<{ status: number; body: string } | Error>((resolve) => {
      const r = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: req.method,
          path: `${base.pathname}${req.path}`,
          timeout: PROBE_TIMEOUT_MS,
          // Node sends a GET body without framing (the server would read it as the next request): say its length.
          headers: req.body !== null ? { 'Content-Length': String(Buffer.byteLength(req.body)) } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => resolve(e));
        },
      );
      r.on('timeout', () => r.destroy(new Error('timeout')));
      r.on('error', (e) => resolve(e));
      if (req.body !== null) r.end(req.body);
      else r.end();
    });
    if (n >= 0) slowCase(t, policy, n, performance.now() - started, `${lane.exchange} REST`, shown);
    if (result instanceof Error) {
      // A body over the limit may see its socket closed while still sending: refused by design.
      const refused = req.body !== null && req.body.length > maxPayload;
      if (!refused) {
        t.crashes++;
        note(t, `${lane.exchange} REST: ${result.message}`, n, shown);
      }
      continue;
    }
    if (req.method === 'HEAD') continue;
    let v: unknown;
    try {
      v = JSON.parse(result.body);
    } catch {
      v = undefined;
    }
    if (!obj(v)) {
      t.invalidValues++;
      note(t, `${lane.exchange} REST: HTTP ${result.status} body not a JSON object: ${JSON.stringify(result.body.slice(0, 80))}`, n, shown);
    }
  }
  agent.destroy();
}

/**
 * Case n of a run with `seed`, as sent: the lane (exchange and path, or REST) and the frame or request.
 * For reproducing an example of a report.
 */
export function fuzzCase(seed: number, n: number): { lane: string; frame: string } {
  const lane = LANES[n % LANES.length]!;
  const rng = caseRng(seed, n);
  if (lane.kind === 'ws') return { lane: `${lane.exchange} ${lane.path}`, frame: mutate(rng, pick(rng, lane.corpus), DEFAULT_MAX_PAYLOAD_BYTES) };
  const r = mutateRest(rng, pick(rng, lane.corpus), DEFAULT_MAX_PAYLOAD_BYTES);
  return { lane: `${lane.exchange} REST`, frame: `${r.method} ${r.path}${r.body !== null ? ` (body ${r.body.length} bytes)` : ''}` };
}

/** Case n's generator: a function of (seed, n) alone. */
function caseRng(seed: number, n: number): Sfc32 {
  return createRng((seed >>> 0) + (n % 2 ** 21) * 2 ** 32);
}

/**
 * Runs `cases` mutated client messages (spread over the lanes: every WebSocket path and REST API of the
 * simulated exchanges) against a simulator started in-process on 127.0.0.1, and reports what went wrong.
 */
export async function run(seed: number, cases: number): Promise<FuzzReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-fuzz-sim-'));
  const maxPayload = DEFAULT_MAX_PAYLOAD_BYTES;
  const tally: Tally = { crashes: 0, slowCases: 0, invalidValues: 0, maxMs: 0, examples: [], slowExamples: [] };
  const uncaught = (e: unknown) => {
    tally.crashes++;
    note(tally, `uncaught exception: ${String((e as Error)?.stack ?? e).slice(0, 300)}`, -1, '');
  };
  process.on('uncaughtException', uncaught);
  let sim: ExchangeSim | null = null;
  try {
    writeFuzzDataset(path.join(dir, 'ds'));
    const logged: string[] = [];
    sim = await startExchangeSim({ dataset: path.join(dir, 'ds'), port: 0, speed: 'max', start: 'listen', log: (l) => logged.length < 50 && logged.push(l) });
    const s = sim;
    const byLane: number[][] = LANES.map(() => []);
    for (let n = 0; n < cases; n++) byLane[n % LANES.length]!.push(n);
    const runLane = (i: number, caseNos: number[], t: Tally, policy: SlowPolicy) => {
      const lane = LANES[i]!;
      return lane.kind === 'ws' ? runWsLane(s, lane, caseNos, seed, maxPayload, t, policy) : runRestLane(s, lane, caseNos, seed, maxPayload, t, policy);
    };
    const retime = LANES.map(() => [] as number[]);
    await Promise.all(LANES.map((_, i) => runLane(i, byLane[i]!, tally, { retime: retime[i]! })));
    // Cases over SLOW_MS in the shared first pass are timed again, one lane at a time, up to RETIMES times:
    // a case counts as slow if it is slow every time on its own (the input's doing), not because the
    // machine was busy once. Only the times are taken from the reruns.
    tally.retimed = retime.reduce((a, r) => a + r.length, 0);
    for (let i = 0; i < LANES.length; i++) {
      let list = retime[i]!;
      for (let attempt = 1; attempt <= RETIMES && list.length > 0; attempt++) {
        const last = attempt === RETIMES;
        const again: Tally = { crashes: 0, slowCases: 0, invalidValues: 0, maxMs: 0, examples: [], slowExamples: [] };
        const next: number[] = [];
        await runLane(i, list, again, { retime: last ? null : next });
        tally.maxMs = Math.max(tally.maxMs, again.maxMs);
        if (last) {
          tally.slowCases += again.slowCases;
          tally.slowExamples.push(...again.slowExamples);
        }
        list = next;
      }
    }
    // A handler exception was answered (the server lived) but is still a bug.
    const st = s.stats();
    if (st.handlerErrors > 0) {
      tally.crashes += st.handlerErrors;
      for (const l of logged.filter((x) => x.includes('failed:')).slice(0, 3)) note(tally, 'handler exception', -1, l);
    }
  } finally {
    await sim?.close();
    process.off('uncaughtException', uncaught);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const { crashes, slowCases, invalidValues, maxMs, examples, slowExamples } = tally;
  return {
    name: 'simulator-messages',
    cases,
    crashes,
    slowCases,
    invalidValues,
    maxMs: Math.round(maxMs * 10) / 10,
    examples: [...examples, ...slowExamples].slice(0, MAX_EXAMPLES),
  };
}
