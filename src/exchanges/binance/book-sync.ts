// The recorder's Binance book sync: diffs are buffered by the normalizer until a REST snapshot bridges them.
// A snapshot is fetched after the first diff of a symbol, after every gap and after every reconnect, within
// the REST weight limit; a snapshot newer than every diff received is held until a diff reaches it
// (bridging.ts decides "reaches": the diff would not be dropped as contained in the snapshot).
import type { InputPlace } from '../../data/sink.js';
import { EventKind, Flag, RawKind } from '../../data/types.js';
import { totalGaps, type BookSyncDriver, type BookSyncHost, type RetryBackoff } from '../kit/book-sync.js';
import { containedInSnapshot } from './bridging.js';
import { BINANCE_SNAPSHOT_LIMIT, binanceDepthUrl, binanceDepthWeight } from './feed.js';
import { binanceFrameInfo } from './frames.js';
import type { BinanceExchange } from './markets.js';
import { BinanceNormalizer } from './normalizer.js';

interface SymbolBook {
  /** Largest depth `u` received on the current socket. */
  maxU: number;
  fetching: boolean;
  held: { lid: number; data: Record<string, unknown>; place: InputPlace } | null;
  retry: NodeJS.Timeout | null;
  backoff: RetryBackoff;
}

export class BinanceBookSync implements BookSyncDriver {
  private readonly normalizer: BinanceNormalizer;
  private readonly books = new Map<string, SymbolBook>();
  private readonly futures: boolean;
  /** Bumped on every close: a snapshot asked for on an earlier socket is not applied. */
  private epoch = 0;

  constructor(
    private readonly exchange: BinanceExchange,
    private readonly host: BookSyncHost,
  ) {
    this.normalizer = new BinanceNormalizer(exchange, host.sink, host.problems);
    this.futures = exchange !== 'binance-spot';
  }

  gapsWritten(): number {
    return totalGaps(this.normalizer.gaps);
  }

  /** Whether diffs up to `u` let a snapshot of `lid` bridge the buffered diffs. */
  private reaches(u: number, lid: number): boolean {
    return !containedInSnapshot(this.futures, lid, u);
  }

  onFrame(ts: bigint, msg: unknown, place: InputPlace): void {
    const h = this.host;
    const n = this.normalizer;
    const info = binanceFrameInfo(msg);
    if (!n.onMessage(ts, msg, place)) {
      h.malformed();
      return; // a refused frame's time is not a time: it must not move the lag shown
    }
    if (Number.isFinite(info.exchMs)) h.lag(ts, info.exchMs);
    if (info.channel !== 'book' || info.symbol === null || !h.rest) return;
    const s = info.symbol;
    let b = this.books.get(s);
    if (!b) {
      b = { maxU: -1, fetching: false, held: null, retry: null, backoff: h.newBackoff() };
      this.books.set(s, b);
    }
    if (info.u > b.maxU) b.maxU = info.u;
    if (b.held && this.reaches(b.maxU, b.held.lid)) this.applySnapshot(ts, s, b);
    if (!n.isSynced(s)) this.requestSnapshot(s, b);
  }

  onClose(ts: bigint): void {
    this.epoch++;
    this.stop();
    this.normalizer.onDisconnect(ts); // Disconnect rows for the symbols with a book, prev_id = their last update id
    for (const [s, stream] of this.host.streams) {
      if (!this.books.has(s)) this.host.sink.event(stream, ts, ts, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
    }
    for (const b of this.books.values()) {
      b.maxU = -1;
      b.fetching = false;
      b.held = null;
    }
  }

  stop(): void {
    for (const b of this.books.values()) {
      if (b.retry) clearTimeout(b.retry);
      b.retry = null;
    }
  }

  private requestSnapshot(symbol: string, b: SymbolBook): void {
    const h = this.host;
    const rest = h.rest!;
    if (b.fetching || b.held || b.retry || h.signal.aborted) return;
    const limit = h.snapshotLimit ?? BINANCE_SNAPSHOT_LIMIT;
    const url = binanceDepthUrl(this.exchange, symbol, limit, h.restRoot);
    const weight = binanceDepthWeight(this.exchange, limit);
    const epoch = this.epoch;
    b.fetching = true;
    h.resyncRequested();
    rest
      .get(url, weight, h.signal, validateSnapshot)
      .then((res) => {
        if (h.signal.aborted) return;
        const place: InputPlace = { source: `${this.exchange} rest`, line: rest.received };
        h.sink.rawMessage(res.ts, this.exchange, place.source, place.line, RawKind.Rest, res.text);
        if (epoch !== this.epoch) return; // the socket it was for is gone; the new one asks again
        b.fetching = false;
        const data = JSON.parse(res.text) as Record<string, unknown>;
        b.held = { lid: data.lastUpdateId as number, data, place };
        if (this.reaches(b.maxU, b.held.lid)) this.applySnapshot(res.ts, symbol, b);
      })
      .catch((e: unknown) => {
        if (epoch === this.epoch) b.fetching = false;
        if (h.signal.aborted) return;
        const msg = e instanceof Error ? e.message : String(e);
        h.problems.add('snapshot_failed', `${this.exchange} rest`, msg);
        h.log(`${h.source}: snapshot for ${symbol} failed: ${msg}`);
        // A client error (unknown symbol...) is retried slowly: it will not fix itself quickly.
        if (rest.isClientError(e) && epoch === this.epoch) this.scheduleRetry(symbol, b, 30_000);
      });
  }

  private applySnapshot(ts: bigint, symbol: string, b: SymbolBook): void {
    const h = this.host;
    const n = this.normalizer;
    const held = b.held!;
    b.held = null;
    try {
      n.onSnapshot(ts, held.data, symbol, held.place);
    } catch (e) {
      h.problems.add('bad_snapshot', held.place, (e as Error).message);
    }
    if (n.isSynced(symbol)) {
      h.snapshotApplied();
      b.backoff.reset();
      h.log(`${h.source}: ${symbol} book synced at update id ${held.lid}`);
    } else {
      // Older than the buffered diffs (or broken right after): fetch another one, after a pause.
      this.scheduleRetry(symbol, b, b.backoff.next());
    }
  }

  private scheduleRetry(symbol: string, b: SymbolBook, delayMs: number): void {
    if (b.retry) return;
    b.retry = setTimeout(() => {
      b.retry = null;
      if (!this.normalizer.isSynced(symbol) && this.host.connected) this.requestSnapshot(symbol, b);
    }, delayMs);
  }
}

function validateSnapshot(text: string): string | null {
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
