// The recorder: connects to one exchange's public feeds, stamps every frame on arrival, keeps it raw, and
// hands it to the exchange's book-sync driver (src/exchanges/<exchange>/, found in the registry), which
// normalizes it with the exchange's normalizer (the same code as the importers) and keeps its books in sync
// (Binance REST snapshots; Bybit/OKX resubscriptions). The recorder keeps the connections' lifecycle and the
// statistics: lost connections write Disconnect rows (and raw Disconnect rows), new ones Reconnect rows.
import fs from 'node:fs';
import path from 'node:path';
import { DatasetWriter, type WriterFiles } from '../data/writer.js';
import { readManifest, type Manifest } from '../data/manifest.js';
import { ProblemLog, type InputPlace } from '../data/sink.js';
import { EventKind, Flag, GapReason, RawKind, type ExchangeId, type StreamInfo } from '../data/types.js';
import { feedAdapter, findAdapter, RECORD_EXCHANGES } from '../exchanges/registry.js';
import type { FeedAdapter } from '../exchanges/kit/adapter.js';
import { refusedFrameGapFlags, type FrameClassifier } from '../exchanges/kit/frames.js';
import type { BookSyncDriver, BookSyncHost, RestSnapshots } from '../exchanges/kit/book-sync.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { MonotonicClock, type Clock } from './clock.js';
import { FeedConnection, type HeartbeatOptions } from './connection.js';
import { STREAM_KINDS, type ConnectionPlan, type StreamKind } from '../exchanges/kit/feed.js';
import { RestError, SnapshotFetcher, WeightLimiter } from './snapshots.js';
import { LagWindow, type RecorderStats } from './status.js';
import { redactSecrets } from './redact.js';

export { RECORD_EXCHANGES };
export type { RecorderStats };
/** An exchange id the registry gives a recorder side (RECORD_EXCHANGES). */
export type RecordExchange = string;

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
  /** Client heartbeat interval, where the exchange wants one (Bybit, OKX). Default: the exchange's (20 000 ms). */
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
  /** Book depth topic, where the exchange offers several (Bybit 50 or 200). Default: the exchange's first. */
  bookDepth?: number;
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
  /** Bytes of finished batches kept in memory while the disk is full (default: the writer's, 256 MiB). */
  maxPendingBytes?: number;
  /** The writer's file calls (tests make them fail with real ENOSPC). */
  files?: WriterFiles;
}

export interface Recorder {
  readonly dir: string;
  readonly exchange: RecordExchange;
  readonly problems: ProblemLog;
  stats(): RecorderStats;
  /** Close sockets, write Disconnect rows, close the dataset. */
  stop(): Promise<Manifest>;
}

/** ws://h/p → http://h/p, wss → https. */
export function restFromWs(url: string): string {
  return url.replace(/^ws(s?):\/\//i, 'http$1://');
}

/** The recorder's problem log: every place and message goes through the one redaction (redact.ts). */
class RedactingProblemLog extends ProblemLog {
  override add(kind: string, place: InputPlace | string, message: string): void {
    const p = typeof place === 'string' ? redactSecrets(place) : { source: redactSecrets(place.source), line: place.line };
    super.add(kind, p, redactSecrets(message));
  }
}

/** Shared by all connections of one recorder. */
class Shared {
  readonly problems: ProblemLog = new RedactingProblemLog();
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

type SessionOptions = Required<Pick<RecorderOptions, 'silenceMs' | 'healthyMs' | 'resyncTimeoutMs'>> &
  Pick<RecorderOptions, 'backoff' | 'restBackoff' | 'pingIntervalMs' | 'snapshotLimit'> & { restRoot: string; rest: RestSnapshots | null; signal: AbortSignal };

/** One connection: its lifecycle, raw rows and statistics; the exchange's driver keeps its books in sync. */
class Session {
  readonly conn: FeedConnection;
  private readonly source: string;
  private line = 0;
  private opened = false;
  private readonly streams = new Map<string, number>();
  private readonly sync: BookSyncDriver;
  private readonly frames: FrameClassifier | undefined;
  /** Frames rejected on this connection (bad JSON or refused by the normalizer). */
  private rejected = 0;

  constructor(
    private readonly sh: Shared,
    feed: FeedAdapter,
    private readonly plan: ConnectionPlan,
    index: number,
    o: SessionOptions,
  ) {
    this.source = `${sh.exchange} ws${index + 1}`;
    const adapter = findAdapter(sh.exchange)!;
    this.frames = adapter.frames;
    for (const s of plan.symbols) {
      const info: StreamInfo = { exchange: sh.exchange as ExchangeId, market: adapter.market(s), symbol: s };
      this.streams.set(s, sh.writer.stream(info));
    }
    const hb = feed.heartbeat;
    const heartbeat: HeartbeatOptions | undefined = hb ? { text: hb.text, intervalMs: o.pingIntervalMs ?? hb.intervalMs, whenIdle: hb.whenIdle } : undefined;
    this.conn = new FeedConnection({
      url: plan.url,
      clock: sh.clock,
      silenceMs: o.silenceMs,
      heartbeat,
      isHeartbeat: hb?.isPong,
      backoff: o.backoff,
      healthyMs: o.healthyMs,
      handlers: {
        onOpen: (ts, url) => this.onOpen(ts, url),
        onMessage: (ts, text, isHb) => this.onMessage(ts, text, isHb),
        onSent: (ts, text) => sh.writer.rawMessage(ts, sh.exchange, this.source, ++this.line, RawKind.Sent, redactSecrets(text)),
        onClose: (ts, reason) => this.onClose(ts, reason),
        onError: (msg) => {
          sh.problems.add('connection_error', this.source, msg);
          sh.log(`${this.source}: ${msg}`);
        },
      },
    });
    const conn = this.conn;
    const host: BookSyncHost = {
      exchange: sh.exchange,
      source: this.source,
      sink: sh.writer,
      problems: sh.problems,
      streams: this.streams,
      rest: o.rest,
      restRoot: o.restRoot,
      snapshotLimit: o.snapshotLimit,
      resyncTimeoutMs: o.resyncTimeoutMs,
      signal: o.signal,
      get connected() {
        return conn.connected;
      },
      send: (text) => conn.send(text),
      restart: (reason) => conn.restart(reason),
      newBackoff: () => new Backoff(o.restBackoff),
      log: sh.log,
      lag: (ts, exchMs) => sh.lag.add(ts, exchMs),
      malformed: () => {
        sh.malformed++;
        this.rejected++;
      },
      resyncRequested: () => sh.resyncs++,
      snapshotApplied: () => sh.snapshotsApplied++,
    };
    this.sync = feed.bookSync(host);
  }

  gapsWritten(): number {
    return this.sync.gapsWritten();
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  start(): void {
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.sync.stop();
    await this.conn.stop();
  }

  private onOpen(ts: bigint, url: string): void {
    const { writer, exchange } = this.sh;
    writer.rawMessage(ts, exchange, this.source, ++this.line, RawKind.Connect, redactSecrets(url));
    if (this.opened) {
      this.sh.reconnects++;
      for (const stream of this.streams.values()) {
        writer.event(stream, ts, ts, EventKind.Reconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
      }
      this.sh.log(`${this.source}: reconnected (${url})`);
    } else {
      this.sh.log(`${this.source}: connected (${url})`);
    }
    this.opened = true;
    for (const msg of this.plan.subscribe) this.conn.send(msg);
  }

  private onClose(ts: bigint, reason: string): void {
    const { writer, exchange } = this.sh;
    this.sync.stop();
    writer.rawMessage(ts, exchange, this.source, ++this.line, RawKind.Disconnect, reason);
    const stopped = reason === 'stopped';
    if (!stopped) this.sh.disconnects++;
    // The books are unknown from here until their next snapshot.
    this.sync.onClose(ts);
    if (!stopped) this.sh.log(`${this.source}: connection lost (${reason}); reconnecting`);
  }

  private onMessage(ts: bigint, text: string, heartbeat: boolean): void {
    const sh = this.sh;
    const place: InputPlace = { source: this.source, line: ++this.line };
    try {
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
        this.markRejected(ts, text);
        return;
      }
      const before = this.rejected;
      this.sync.onFrame(ts, msg, place);
      if (this.rejected > before) this.markRejected(ts, text);
    } catch (e) {
      // A bug (or a write the disk refused in a way the writer did not expect) must not stop the recording:
      // the problem is counted, and the frame is kept raw where that was possible.
      sh.malformed++;
      sh.problems.add('internal_error', place, (e as Error).stack ?? String(e));
    }
  }

  /**
   * A frame the recorder could not use (not JSON, or refused by the normalizer): what it held is lost to the
   * events table, so a Gap row (reason bad_input) says so on the stream the frame was for. A lost trade frame
   * gets a TradeGap row (books unaffected; trade-id jumps after it are explained); a lost book frame, or one
   * whose symbol and channel cannot be read, a full gap on its stream (or on every stream of the connection):
   * its book is unknown until the next snapshot, which the normalizer's own sequence check brings. A lost
   * best bid/offer frame changes no book and needs none (the raw row keeps it).
   */
  private markRejected(ts: bigint, text: string): void {
    let ch = null;
    try {
      ch = this.frames?.channelOfText(text) ?? null;
    } catch {
      ch = null;
    }
    let flags = refusedFrameGapFlags(ch);
    if (flags === null) return;
    const one = ch ? this.streams.get(ch.symbol) : undefined;
    // A frame whose stream is unknown: every stream of the connection, with a full gap.
    if (one === undefined) flags &= ~Flag.TradeGap;
    const streams = one !== undefined ? [one] : [...this.streams.values()];
    for (const s of streams) this.sh.writer.event(s, ts, ts, EventKind.Gap, 0, NaN, GapReason.BadInput, -1n, -1n, flags);
  }

  /** Close and reopen the connection (after rows were lost: the books need fresh snapshots). */
  restart(reason: string): void {
    this.conn.restart(reason);
  }
}

export async function startRecorder(opts: RecorderOptions): Promise<Recorder> {
  const exchange = opts.exchange;
  const feed = feedAdapter(exchange); // throws for an exchange the recorder does not know
  const adapter = findAdapter(exchange)!;
  const symbols = [...new Set(opts.symbols.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (symbols.length === 0) throw new Error('no symbols given');
  const norm = (s: string) => s.toUpperCase();
  const syms = symbols.map(norm);
  for (const s of syms) adapter.market(s); // fails early on a symbol the exchange does not write like this
  const streams = opts.streams && opts.streams.length ? [...new Set(opts.streams)] : [...STREAM_KINDS];
  for (const k of streams) if (!STREAM_KINDS.includes(k)) throw new Error(`unknown stream "${k}" (known: ${STREAM_KINDS.join(', ')})`);
  const plans = feed.plan(syms, streams, { root: opts.url ?? feed.wsRoot, bookDepth: opts.bookDepth });

  const clock = opts.clock ?? new MonotonicClock();
  const writer = new DatasetWriter(opts.out, {
    append: opts.append,
    // A recording appended to ended in an outage (a stop or a crash): its books are not valid across it.
    markSeam: opts.append,
    rotateNs: opts.rotateNs ?? 0n,
    maxPendingBytes: opts.maxPendingBytes,
    files: opts.files,
    source: {
      recorder: exchange,
      symbols: syms,
      streams,
      ...(opts.url ? { url: redactSecrets(opts.url) } : {}),
      ...(opts.restUrl ? { rest_url: redactSecrets(opts.restUrl) } : {}),
      started: new Date(Number(clock.anchorNs / 1_000_000n)).toISOString(),
    },
  });
  const rawLog = opts.log ?? (() => {});
  // Every line the recorder logs goes through the one redaction.
  const log = (line: string) => rawLog(redactSecrets(line));
  const sh = new Shared(exchange, writer, clock, log);
  const abort = new AbortController();

  let fetcher: SnapshotFetcher | null = null;
  let limiter: WeightLimiter | null = null;
  let restRoot = '';
  // Book sync by REST snapshots: only exchanges that publish a REST root and weight limit for it.
  if (feed.restRoot !== undefined && feed.restWeightLimit !== undefined && streams.includes('depth')) {
    restRoot = opts.restUrl ?? (opts.url ? restFromWs(opts.url) : feed.restRoot);
    limiter = new WeightLimiter(feed.restWeightLimit, opts.restWeightShare ?? 0.5);
    fetcher = new SnapshotFetcher({
      clock,
      limiter,
      backoff: opts.restBackoff,
      defaultRetryAfterMs: opts.defaultRetryAfterMs,
      fetch: opts.fetch,
      events: {
        onRetry: (url, why, delay) => {
          sh.problems.add('snapshot_retry', `${exchange} rest`, `${why}; retrying in ${delay} ms`);
          log(`${exchange} rest: ${url}: ${why}; retrying in ${delay} ms`);
        },
        onRateLimited: (url, status, ms) => {
          sh.problems.add('rate_limited', `${exchange} rest`, `HTTP ${status}; waiting ${ms} ms`);
          log(`${exchange} rest: HTTP ${status} (rate limit) for ${url}; sending nothing for ${ms} ms`);
        },
      },
    });
  }
  const f = fetcher;
  const rest: RestSnapshots | null = f && {
    get: (url, weight, signal, validate) => f.get(url, weight, signal, validate),
    get received() {
      return f.stats.ok;
    },
    isClientError: (e) => e instanceof RestError && e.status >= 400,
  };

  const sessionOpts: SessionOptions = {
    silenceMs: opts.silenceMs ?? 10_000,
    pingIntervalMs: opts.pingIntervalMs,
    healthyMs: opts.healthyMs ?? 60_000,
    resyncTimeoutMs: opts.resyncTimeoutMs ?? 10_000,
    snapshotLimit: opts.snapshotLimit,
    backoff: opts.backoff,
    restBackoff: opts.restBackoff,
    restRoot,
    rest,
    signal: abort.signal,
  };
  const sessions = plans.map((p, i) => new Session(sh, feed, p, i, sessionOpts));
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
      lag_p50_over_min_ms: lastLag === null || sh.lag.lowestMs === null ? null : Math.round((lastLag - sh.lag.lowestMs) * 1000) / 1000,
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
      writing: {
        paused: writer.pause !== null,
        error: writer.pause?.error ?? null,
        pending_bytes: writer.pause?.pendingBytes ?? 0,
        dropped_events: writer.dropped.events,
        dropped_raw: writer.dropped.raw,
      },
    };
  };

  const flushMs = opts.flushMs ?? 1000;
  let pausedBefore = false;
  const tick = () => {
    try {
      const resumedAfterLoss = writer.flush();
      const pause = writer.pause;
      if (pause !== null && !pausedBefore) {
        // Said once per pause, not every second; the status line keeps saying it.
        sh.problems.add('write_paused', writer.dir, `the disk refuses writes (${pause.error}); writing paused, rows kept in memory`);
        log(`${writer.dir}: the disk refuses writes (${pause.error}); writing paused, connections kept, rows kept in memory until space returns`);
      } else if (pause === null && pausedBefore) {
        log(`${writer.dir}: writing resumed`);
      }
      if (resumedAfterLoss) {
        sh.problems.add('rows_dropped', writer.dir, 'rows were dropped while the disk was full (gap rows, reason not_written, mark them)');
        log(`${writer.dir}: rows were dropped while the disk was full; reconnecting for fresh books`);
        for (const s of sessions) s.restart('rows lost while the disk was full');
      }
      pausedBefore = pause !== null;
      if (pause === null) readTotals(readManifest(writer.dir));
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
