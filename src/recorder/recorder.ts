// The recorder: connects to one exchange's public feeds, stamps every frame on arrival, keeps it raw,
// normalizes it with the exchange's normalizer (the same code as the importers) and writes a dataset.
//
// Books follow each exchange's sync rules (docs/dataset-format.md, docs/recorder.md):
// - Binance: diffs are buffered by the normalizer until a REST snapshot bridges them. The recorder fetches
//   one after the first diff of a symbol, after every gap and after every reconnect, within the REST
//   weight limit; a snapshot newer than every diff received is held until a diff reaches it.
// - Bybit, OKX: the snapshot comes on subscribe; after a gap the book topic is resubscribed (a fresh
//   snapshot follows), and a book still not resynced after `resyncTimeoutMs` costs the connection a restart.
// Lost connections write Disconnect rows (and raw Disconnect rows), new ones Reconnect rows.
import fs from 'node:fs';
import path from 'node:path';
import { DatasetWriter } from '../data/writer.js';
import { readManifest, type Manifest } from '../data/manifest.js';
import { ProblemLog, type InputPlace } from '../data/sink.js';
import { EventKind, Flag, RawKind, type ExchangeId, type MarketType, type StreamInfo } from '../data/types.js';
import { BinanceNormalizer, BINANCE_MARKET, type BinanceExchange } from '../exchanges/binance/normalizer.js';
import {
  BINANCE_REST,
  BINANCE_SNAPSHOT_LIMIT,
  BINANCE_WEIGHT_LIMIT,
  BINANCE_WS,
  binanceDepthUrl,
  binanceDepthWeight,
  binanceFrameInfo,
  binancePlan,
} from '../exchanges/binance/feed.js';
import { BybitNormalizer } from '../exchanges/bybit/normalizer.js';
import {
  BYBIT_PING,
  BYBIT_PING_INTERVAL_MS,
  BYBIT_WS_ROOT,
  bybitFrameInfo,
  bybitPlan,
  bybitRequest,
  isBybitPong,
  type BybitBookDepth,
} from '../exchanges/bybit/feed.js';
import { OkxNormalizer } from '../exchanges/okx/normalizer.js';
import { okxMarket } from '../exchanges/okx/instruments.js';
import { isOkxPong, OKX_PING, OKX_PING_INTERVAL_MS, OKX_WS_ROOT, okxArgs, okxFrameInfo, okxPlan, okxRequest } from '../exchanges/okx/feed.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { MonotonicClock, type Clock } from './clock.js';
import { FeedConnection, redactUrl, type HeartbeatOptions } from './connection.js';
import { STREAM_KINDS, type ConnectionPlan, type StreamKind } from './feed-types.js';
import { RestError, SnapshotFetcher, WeightLimiter } from './snapshots.js';
import { LagWindow } from './status.js';

export const RECORD_EXCHANGES = ['binance-spot', 'binance-usdm', 'binance-coinm', 'bybit-spot', 'bybit-linear', 'okx'] as const;
export type RecordExchange = (typeof RECORD_EXCHANGES)[number];

export interface RecorderOptions {
  exchange: RecordExchange;
  /** As the exchange writes them: BTCUSDT (Binance, Bybit), BTCUSD_PERP (COIN-M), BTC-USDT (OKX). */
  symbols: string[];
  /** Default: trade, depth, bbo. */
  streams?: StreamKind[];
  /** Dataset folder (created; must be empty unless `append`). */
  out: string;
  append?: boolean;
  /** WebSocket root replacing the exchange's (e.g. a simulator's ws://127.0.0.1:P/binance-usdm); the exchange's paths are appended. */
  url?: string;
  /** REST root replacing the exchange's; default: `url` with ws→http, else the exchange's. */
  restUrl?: string;
  /** Rotate segments when local time crosses a multiple of this (ns). 0 = by rows only. */
  rotateNs?: bigint;
  /** No data frame for this long → the connection is replaced. Default 10 000 ms. */
  silenceMs?: number;
  /** Client heartbeat interval (Bybit, OKX). Default 20 000 ms. */
  pingIntervalMs?: number;
  /** Reconnect backoff. Default 1 s doubling to 30 s. */
  backoff?: BackoffOptions;
  /** Connected this long: the reconnect backoff starts over. Default 60 000 ms. */
  healthyMs?: number;
  /** REST retry backoff (network errors, 5xx, unreadable snapshots). Default 1 s doubling to 30 s. */
  restBackoff?: BackoffOptions;
  /** Wait after a 429 without Retry-After (ms). Default 60 000. */
  defaultRetryAfterMs?: number;
  /** Fraction of the REST weight limit the recorder lets itself use. Default 0.5. */
  restWeightShare?: number;
  /** Binance REST snapshot depth. Default 1000. */
  snapshotLimit?: number;
  /** Bybit book depth topic. Default 50. */
  bookDepth?: BybitBookDepth;
  /** Bybit/OKX: a resubscribed book not resynced after this long restarts the connection. Default 10 000 ms. */
  resyncTimeoutMs?: number;
  /** Flush the dataset (and report status) this often. Default 1000 ms. */
  flushMs?: number;
  /** Called after every flush with the current statistics. */
  onStatus?: (s: RecorderStats) => void;
  /** Human-readable notices (connects, losses, rate limits, resyncs). */
  log?: (line: string) => void;
  clock?: Clock;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
}

export interface RecorderStats {
  exchange: RecordExchange;
  /** Recorder clock, ns since epoch, as a decimal string. */
  time: string;
  uptime_s: number;
  connections: number;
  connected: number;
  /** Data frames received (not heartbeats). */
  messages: number;
  /** Data frames in the last interval, per second. */
  messages_per_s: number;
  /** Median of local − exchange time over the last interval (ms); null without timed frames. */
  lag_p50_ms: number | null;
  /** Gap rows written (sequence breaks, checksums, missing snapshots). */
  gaps: number;
  /** Open connections lost (not counting stop). */
  disconnects: number;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Frames that were not valid JSON or that the normalizer rejected (all kept raw). */
  malformed: number;
  snapshots: { requested: number; applied: number; rate_limited: number; retries: number; failed: number; weight_used_1m: number };
  resyncs: number;
  events: number;
  raw_messages: number;
  bytes_written: number;
  problems: Record<string, number>;
}

export interface Recorder {
  readonly dir: string;
  readonly exchange: RecordExchange;
  readonly problems: ProblemLog;
  stats(): RecorderStats;
  /** Close sockets, write Disconnect rows, close the dataset. */
  stop(): Promise<Manifest>;
}

type Family = 'binance' | 'bybit' | 'okx';

function familyOf(ex: RecordExchange): Family {
  return ex.startsWith('binance') ? 'binance' : ex.startsWith('bybit') ? 'bybit' : 'okx';
}

function marketOf(ex: RecordExchange, symbol: string): MarketType {
  const f = familyOf(ex);
  if (f === 'binance') return BINANCE_MARKET[ex as BinanceExchange];
  if (f === 'bybit') return ex === 'bybit-spot' ? 'spot' : 'linear';
  const m = okxMarket(symbol);
  if (m === null) throw new Error(`"${symbol}" is not an OKX instrument id (BTC-USDT, BTC-USDT-SWAP, BTC-USD-SWAP, BTC-USD-250926)`);
  return m;
}

/** ws://h/p → http://h/p, wss → https. */
export function restFromWs(url: string): string {
  return url.replace(/^ws(s?):\/\//i, 'http$1://');
}

interface BinanceBook {
  /** Largest depth `u` received on the current socket. */
  maxU: number;
  fetching: boolean;
  held: { lid: number; data: Record<string, unknown>; place: InputPlace } | null;
  retry: NodeJS.Timeout | null;
  backoff: Backoff;
}

/** Shared by all connections of one recorder. */
class Shared {
  readonly problems = new ProblemLog();
  messages = 0;
  intervalMessages = 0;
  malformed = 0;
  disconnects = 0;
  reconnects = 0;
  resyncs = 0;
  snapshotsApplied = 0;
  gapsRetired = 0;
  readonly lag = new LagWindow();
  constructor(
    readonly exchange: RecordExchange,
    readonly writer: DatasetWriter,
    readonly clock: Clock,
    readonly log: (line: string) => void,
  ) {}
}

type AnyNormalizer = BinanceNormalizer | BybitNormalizer | OkxNormalizer;

class Session {
  readonly conn: FeedConnection;
  private readonly source: string;
  private line = 0;
  private epoch = 0;
  private opened = false;
  private normalizer: AnyNormalizer;
  private readonly streams = new Map<string, number>();
  private readonly books = new Map<string, BinanceBook>();
  private readonly resyncTimers = new Map<string, NodeJS.Timeout>();
  private readonly family: Family;

  constructor(
    private readonly sh: Shared,
    private readonly plan: ConnectionPlan,
    index: number,
    private readonly o: Required<Pick<RecorderOptions, 'silenceMs' | 'pingIntervalMs' | 'healthyMs' | 'resyncTimeoutMs' | 'snapshotLimit' | 'bookDepth'>> &
      Pick<RecorderOptions, 'backoff' | 'restBackoff'> & { streams: StreamKind[]; restRoot: string; fetcher: SnapshotFetcher | null; signal: AbortSignal },
  ) {
    this.family = familyOf(sh.exchange);
    this.source = `${sh.exchange} ws${index + 1}`;
    for (const s of plan.symbols) {
      const info: StreamInfo = { exchange: sh.exchange as ExchangeId, market: marketOf(sh.exchange, s), symbol: s };
      this.streams.set(s, sh.writer.stream(info));
    }
    this.normalizer = this.newNormalizer();
    let heartbeat: HeartbeatOptions | undefined;
    let isHeartbeat: ((t: string) => boolean) | undefined;
    if (this.family === 'bybit') {
      heartbeat = { text: BYBIT_PING, intervalMs: o.pingIntervalMs, whenIdle: false };
      isHeartbeat = isBybitPong;
    } else if (this.family === 'okx') {
      heartbeat = { text: OKX_PING, intervalMs: o.pingIntervalMs, whenIdle: true };
      isHeartbeat = isOkxPong;
    }
    this.conn = new FeedConnection({
      url: plan.url,
      clock: sh.clock,
      silenceMs: o.silenceMs,
      heartbeat,
      isHeartbeat,
      backoff: o.backoff,
      healthyMs: o.healthyMs,
      handlers: {
        onOpen: (ts, url) => this.onOpen(ts, url),
        onMessage: (ts, text, hb) => this.onMessage(ts, text, hb),
        onSent: (ts, text) => sh.writer.rawMessage(ts, sh.exchange, this.source, ++this.line, RawKind.Sent, text),
        onClose: (ts, reason) => this.onClose(ts, reason),
        onError: (msg) => {
          sh.problems.add('connection_error', this.source, msg);
          sh.log(`${this.source}: ${msg}`);
        },
      },
    });
  }

  private newNormalizer(): AnyNormalizer {
    const { writer, problems, exchange } = this.sh;
    if (this.family === 'binance') return new BinanceNormalizer(exchange as BinanceExchange, writer, problems);
    if (this.family === 'bybit') return new BybitNormalizer(writer, problems, exchange === 'bybit-spot' ? 'spot' : 'linear');
    return new OkxNormalizer(writer, problems);
  }

  gapsWritten(): number {
    const n = this.normalizer;
    const g = n instanceof BinanceNormalizer ? n.stats.gaps : n.gaps;
    let t = 0;
    for (const v of Object.values(g)) t += v;
    return t;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  start(): void {
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.clearTimers();
    await this.conn.stop();
  }

  private clearTimers(): void {
    for (const b of this.books.values()) {
      if (b.retry) clearTimeout(b.retry);
      b.retry = null;
    }
    for (const t of this.resyncTimers.values()) clearTimeout(t);
    this.resyncTimers.clear();
  }

  private onOpen(ts: bigint, url: string): void {
    const { writer, exchange } = this.sh;
    writer.rawMessage(ts, exchange, this.source, ++this.line, RawKind.Connect, redactUrl(url));
    if (this.opened) {
      this.sh.reconnects++;
      for (const stream of this.streams.values()) {
        writer.event(stream, ts, ts, EventKind.Reconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
      }
      this.sh.log(`${this.source}: reconnected (${redactUrl(url)})`);
    } else {
      this.sh.log(`${this.source}: connected (${redactUrl(url)})`);
    }
    this.opened = true;
    for (const msg of this.plan.subscribe) this.conn.send(msg);
  }

  private onClose(ts: bigint, reason: string): void {
    const { writer, exchange } = this.sh;
    this.epoch++;
    this.clearTimers();
    writer.rawMessage(ts, exchange, this.source, ++this.line, RawKind.Disconnect, reason);
    const stopped = reason === 'stopped';
    if (!stopped) this.sh.disconnects++;
    // The books are unknown from here until their next snapshot.
    const n = this.normalizer;
    if (n instanceof BinanceNormalizer) {
      n.onDisconnect(ts); // Disconnect rows for the symbols with a book, prev_id = their last update id
      for (const [s, stream] of this.streams) {
        if (!this.books.has(s)) writer.event(stream, ts, ts, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
      }
      for (const b of this.books.values()) {
        b.maxU = -1;
        b.fetching = false;
        b.held = null;
      }
    } else {
      for (const stream of this.streams.values()) {
        writer.event(stream, ts, ts, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
      }
      // A fresh normalizer: every book waits for the snapshot the new subscription brings.
      this.sh.gapsRetired += this.gapsWritten();
      this.normalizer = this.newNormalizer();
    }
    if (!stopped) this.sh.log(`${this.source}: connection lost (${reason}); reconnecting`);
  }

  private onMessage(ts: bigint, text: string, heartbeat: boolean): void {
    const sh = this.sh;
    const place: InputPlace = { source: this.source, line: ++this.line };
    sh.writer.rawMessage(ts, sh.exchange, this.source, place.line, RawKind.Received, text);
    if (heartbeat) return;
    sh.messages++;
    sh.intervalMessages++;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      sh.malformed++;
      sh.problems.add('bad_json', place, `frame is not valid JSON (${(e as Error).message})`);
      return;
    }
    try {
      if (this.family === 'binance') this.onBinance(ts, msg, place);
      else if (this.family === 'bybit') this.onBybit(ts, msg, place);
      else this.onOkx(ts, msg, place);
    } catch (e) {
      // A bug must not stop the recording: the frame is kept raw and the problem counted.
      sh.malformed++;
      sh.problems.add('internal_error', place, (e as Error).stack ?? String(e));
    }
  }

  // ---- Binance ----

  private onBinance(ts: bigint, msg: unknown, place: InputPlace): void {
    const n = this.normalizer as BinanceNormalizer;
    const info = binanceFrameInfo(msg);
    if (Number.isFinite(info.exchMs)) this.sh.lag.add(ts, info.exchMs);
    if (!n.onMessage(ts, msg, place)) {
      this.sh.malformed++;
      return;
    }
    if (info.kind !== 'depth' || info.symbol === null || !this.o.fetcher) return;
    const s = info.symbol;
    let b = this.books.get(s);
    if (!b) {
      b = { maxU: -1, fetching: false, held: null, retry: null, backoff: new Backoff(this.o.restBackoff) };
      this.books.set(s, b);
    }
    if (info.u > b.maxU) b.maxU = info.u;
    if (b.held && this.reaches(b.maxU, b.held.lid)) this.applySnapshot(ts, s, b);
    if (!n.isSynced(s)) this.requestSnapshot(s, b);
  }

  /** Whether a diff with this u lets a snapshot of lastUpdateId `lid` bridge the buffered diffs. */
  private reaches(u: number, lid: number): boolean {
    return this.sh.exchange === 'binance-spot' ? u >= lid + 1 : u >= lid;
  }

  private requestSnapshot(symbol: string, b: BinanceBook): void {
    if (b.fetching || b.held || b.retry || this.o.signal.aborted) return;
    const fetcher = this.o.fetcher!;
    const ex = this.sh.exchange as BinanceExchange;
    const url = binanceDepthUrl(ex, symbol, this.o.snapshotLimit, this.o.restRoot);
    const weight = binanceDepthWeight(ex, this.o.snapshotLimit);
    const epoch = this.epoch;
    b.fetching = true;
    this.sh.resyncs++;
    fetcher
      .get(url, weight, this.o.signal, validateBinanceSnapshot)
      .then((res) => {
        const { writer, exchange } = this.sh;
        if (this.o.signal.aborted) return;
        const place: InputPlace = { source: `${exchange} rest`, line: fetcher.stats.ok };
        writer.rawMessage(res.ts, exchange, place.source, place.line, RawKind.Rest, res.text);
        if (epoch !== this.epoch) return; // the socket it was for is gone; the new one asks again
        b.fetching = false;
        const data = JSON.parse(res.text) as Record<string, unknown>;
        b.held = { lid: data.lastUpdateId as number, data, place };
        if (this.reaches(b.maxU, b.held.lid)) this.applySnapshot(res.ts, symbol, b);
      })
      .catch((e: unknown) => {
        if (epoch === this.epoch) b.fetching = false;
        if (this.o.signal.aborted) return;
        const msg = e instanceof Error ? e.message : String(e);
        this.sh.problems.add('snapshot_failed', `${this.sh.exchange} rest`, msg);
        this.sh.log(`${this.source}: snapshot for ${symbol} failed: ${msg}`);
        if (e instanceof RestError && e.status >= 400 && epoch === this.epoch) {
          // A client error (unknown symbol...) is retried slowly: it will not fix itself quickly.
          this.scheduleRetry(symbol, b, 30_000);
        }
      });
  }

  private applySnapshot(ts: bigint, symbol: string, b: BinanceBook): void {
    const n = this.normalizer as BinanceNormalizer;
    const held = b.held!;
    b.held = null;
    try {
      n.onSnapshot(ts, held.data, symbol, held.place);
    } catch (e) {
      this.sh.problems.add('bad_snapshot', held.place, (e as Error).message);
    }
    if (n.isSynced(symbol)) {
      this.sh.snapshotsApplied++;
      b.backoff.reset();
      this.sh.log(`${this.source}: ${symbol} book synced at update id ${held.lid}`);
    } else {
      // Older than the buffered diffs (or broken right after): fetch another one, after a pause.
      this.scheduleRetry(symbol, b, b.backoff.next());
    }
  }

  private scheduleRetry(symbol: string, b: BinanceBook, delayMs: number): void {
    if (b.retry) return;
    b.retry = setTimeout(() => {
      b.retry = null;
      const n = this.normalizer as BinanceNormalizer;
      if (!n.isSynced(symbol) && this.conn.connected) this.requestSnapshot(symbol, b);
    }, delayMs);
  }

  // ---- Bybit ----

  private onBybit(ts: bigint, msg: unknown, place: InputPlace): void {
    const n = this.normalizer as BybitNormalizer;
    const info = bybitFrameInfo(msg);
    if (Number.isFinite(info.exchMs) && info.symbol !== null) this.sh.lag.add(ts, info.exchMs);
    const problemsBefore = this.sh.problems.total;
    const gapsBefore = this.gapsWritten();
    n.onMessage(ts, msg, place);
    if (this.sh.problems.total > problemsBefore) this.sh.malformed++;
    const topic = info.bookTopic;
    if (topic === null || info.symbol === null) return;
    if ((msg as Record<string, unknown>).type === 'snapshot') this.resynced(info.symbol);
    if (this.gapsWritten() > gapsBefore) {
      this.resubscribe(info.symbol, () => {
        for (const m of bybitRequest('unsubscribe', [topic])) this.conn.send(m);
        for (const m of bybitRequest('subscribe', [topic])) this.conn.send(m);
      });
    }
  }

  // ---- OKX ----

  private onOkx(ts: bigint, msg: unknown, place: InputPlace): void {
    const n = this.normalizer as OkxNormalizer;
    const info = okxFrameInfo(msg);
    if (Number.isFinite(info.exchMs)) this.sh.lag.add(ts, info.exchMs);
    const problemsBefore = this.sh.problems.total;
    const gapsBefore = this.gapsWritten();
    n.onMessage(ts, msg, place);
    if (this.sh.problems.total > problemsBefore) this.sh.malformed++;
    const inst = info.bookInstId;
    if (inst === null) return;
    if ((msg as Record<string, unknown>).action === 'snapshot') this.resynced(inst);
    if (this.gapsWritten() > gapsBefore) {
      const args = okxArgs(inst, ['depth']);
      this.resubscribe(inst, () => {
        this.conn.send(okxRequest('unsubscribe', args));
        this.conn.send(okxRequest('subscribe', args));
      });
    }
  }

  /** Ask for a fresh book snapshot; restart the connection if none comes in time. */
  private resubscribe(symbol: string, send: () => void): void {
    if (this.resyncTimers.has(symbol)) return;
    this.sh.resyncs++;
    this.sh.log(`${this.source}: ${symbol} book broke; resubscribing for a new snapshot`);
    send();
    this.resyncTimers.set(
      symbol,
      setTimeout(() => {
        this.resyncTimers.delete(symbol);
        this.conn.restart(`${symbol} book not resynced within ${this.o.resyncTimeoutMs} ms`);
      }, this.o.resyncTimeoutMs),
    );
  }

  private resynced(symbol: string): void {
    const t = this.resyncTimers.get(symbol);
    if (t) {
      clearTimeout(t);
      this.resyncTimers.delete(symbol);
      this.sh.snapshotsApplied++;
    }
  }
}

function validateBinanceSnapshot(text: string): string | null {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return 'snapshot body is not JSON';
  }
  if (typeof d !== 'object' || d === null) return 'snapshot body is not an object';
  const o = d as Record<string, unknown>;
  if (typeof o.lastUpdateId !== 'number' || !Array.isArray(o.bids) || !Array.isArray(o.asks)) return 'snapshot body lacks lastUpdateId/bids/asks';
  return null;
}

export async function startRecorder(opts: RecorderOptions): Promise<Recorder> {
  const exchange = opts.exchange;
  if (!(RECORD_EXCHANGES as readonly string[]).includes(exchange)) {
    throw new Error(`unknown exchange "${exchange}" (the recorder knows ${RECORD_EXCHANGES.join(', ')})`);
  }
  const symbols = [...new Set(opts.symbols.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (symbols.length === 0) throw new Error('no symbols given');
  const family = familyOf(exchange);
  const norm = (s: string) => s.toUpperCase();
  const syms = symbols.map(norm);
  for (const s of syms) marketOf(exchange, s); // fails early on a bad OKX instId
  const streams = opts.streams && opts.streams.length ? [...new Set(opts.streams)] : [...STREAM_KINDS];
  for (const k of streams) if (!STREAM_KINDS.includes(k)) throw new Error(`unknown stream "${k}" (known: ${STREAM_KINDS.join(', ')})`);
  const bookDepth = opts.bookDepth ?? 50;

  let plans: ConnectionPlan[];
  if (family === 'binance') plans = binancePlan(exchange as BinanceExchange, syms, streams, opts.url ?? BINANCE_WS[exchange as BinanceExchange]);
  else if (family === 'bybit') plans = bybitPlan(exchange === 'bybit-spot' ? 'spot' : 'linear', syms, streams, bookDepth, opts.url ?? BYBIT_WS_ROOT);
  else plans = okxPlan(syms, streams, opts.url ?? OKX_WS_ROOT);

  const clock = opts.clock ?? new MonotonicClock();
  const writer = new DatasetWriter(opts.out, {
    append: opts.append,
    rotateNs: opts.rotateNs ?? 0n,
    source: { recorder: exchange, symbols: syms, streams, ...(opts.url ? { url: redactUrl(opts.url) } : {}), started: new Date(Number(clock.anchorNs / 1_000_000n)).toISOString() },
  });
  const log = opts.log ?? (() => {});
  const sh = new Shared(exchange, writer, clock, log);
  const abort = new AbortController();

  let fetcher: SnapshotFetcher | null = null;
  let limiter: WeightLimiter | null = null;
  let restRoot = '';
  if (family === 'binance' && streams.includes('depth')) {
    const ex = exchange as BinanceExchange;
    restRoot = opts.restUrl ?? (opts.url ? restFromWs(opts.url) : BINANCE_REST[ex]);
    limiter = new WeightLimiter(BINANCE_WEIGHT_LIMIT[ex], opts.restWeightShare ?? 0.5);
    fetcher = new SnapshotFetcher({
      clock,
      limiter,
      backoff: opts.restBackoff,
      defaultRetryAfterMs: opts.defaultRetryAfterMs,
      fetch: opts.fetch,
      events: {
        onRetry: (url, why, delay) => {
          sh.problems.add('snapshot_retry', `${exchange} rest`, `${why}; retrying in ${delay} ms`);
          log(`${exchange} rest: ${redactUrl(url)}: ${why}; retrying in ${delay} ms`);
        },
        onRateLimited: (url, status, ms) => {
          sh.problems.add('rate_limited', `${exchange} rest`, `HTTP ${status}; waiting ${ms} ms`);
          log(`${exchange} rest: HTTP ${status} (rate limit) for ${redactUrl(url)}; sending nothing for ${ms} ms`);
        },
      },
    });
  }

  const sessionOpts = {
    silenceMs: opts.silenceMs ?? 10_000,
    pingIntervalMs: opts.pingIntervalMs ?? (family === 'bybit' ? BYBIT_PING_INTERVAL_MS : OKX_PING_INTERVAL_MS),
    healthyMs: opts.healthyMs ?? 60_000,
    resyncTimeoutMs: opts.resyncTimeoutMs ?? 10_000,
    snapshotLimit: opts.snapshotLimit ?? BINANCE_SNAPSHOT_LIMIT,
    bookDepth,
    backoff: opts.backoff,
    restBackoff: opts.restBackoff,
    streams,
    restRoot,
    fetcher,
    signal: abort.signal,
  };
  const sessions = plans.map((p, i) => new Session(sh, p, i, sessionOpts));
  writer.flush();

  const startedMs = performance.now();
  let lastTickMs = startedMs;
  let bytesWritten = 0;
  let events = 0;
  let rawRows = 0;
  let lastLag: number | null = null;
  let lastRate = 0;

  const readTotals = (m: Manifest) => {
    bytesWritten = 0;
    events = 0;
    rawRows = 0;
    for (const s of m.segments) {
      bytesWritten += s.bytes + s.rawBytes;
      events += s.rows;
      rawRows += s.rawRows;
    }
  };

  const stats = (): RecorderStats => {
    const f = fetcher?.stats;
    return {
      exchange,
      time: clock.now().toString(),
      uptime_s: +((performance.now() - startedMs) / 1000).toFixed(3),
      connections: sessions.length,
      connected: sessions.filter((s) => s.connected).length,
      messages: sh.messages,
      messages_per_s: lastRate,
      lag_p50_ms: lastLag,
      gaps: sh.gapsRetired + sessions.reduce((a, s) => a + s.gapsWritten(), 0),
      disconnects: sh.disconnects,
      reconnects: sh.reconnects,
      malformed: sh.malformed,
      snapshots: {
        requested: f?.requests ?? 0,
        applied: sh.snapshotsApplied,
        rate_limited: f?.rateLimited ?? 0,
        retries: f?.retries ?? 0,
        failed: f?.failed ?? 0,
        weight_used_1m: limiter?.usedWeight ?? 0,
      },
      resyncs: sh.resyncs,
      events,
      raw_messages: rawRows,
      bytes_written: bytesWritten,
      problems: { ...sh.problems.counts },
    };
  };

  const flushMs = opts.flushMs ?? 1000;
  const tick = () => {
    try {
      writer.flush();
      readTotals(readManifest(writer.dir));
    } catch (e) {
      sh.problems.add('write_error', writer.dir, (e as Error).message);
      log(`write error: ${(e as Error).message}`);
    }
    const now = performance.now();
    lastRate = Math.round((sh.intervalMessages * 1000) / Math.max(1, now - lastTickMs));
    lastTickMs = now;
    sh.intervalMessages = 0;
    lastLag = sh.lag.takeMedianMs();
    opts.onStatus?.(stats());
  };
  const timer = setInterval(tick, flushMs);

  for (const s of sessions) s.start();

  let stopping: Promise<Manifest> | null = null;
  const stop = (): Promise<Manifest> => {
    stopping ??= (async () => {
      clearInterval(timer);
      abort.abort();
      await Promise.all(sessions.map((s) => s.stop()));
      const m = writer.close();
      readTotals(m);
      return m;
    })();
    return stopping;
  };

  return {
    dir: path.resolve(opts.out),
    exchange,
    problems: sh.problems,
    stats,
    stop,
  };
}

/** Whether `dir` can take a new dataset (missing or empty of dataset files). */
export function isFreshDatasetDir(dir: string): boolean {
  if (!fs.existsSync(dir)) return true;
  return !fs.readdirSync(dir).some((f) => f.endsWith('.arrow') || f === 'manifest.json');
}
