// Book sync by resubscription (Bybit, OKX): the snapshot comes on subscribe; after a gap the book topic is
// resubscribed (a fresh snapshot follows), and a book still not resynced after `resyncTimeoutMs` costs the
// connection a restart. A lost connection starts a fresh normalizer: every book waits for the snapshot the
// new subscription brings.
import type { InputPlace } from '../../data/sink.js';
import { EventKind, Flag } from '../../data/types.js';
import { totalGaps, type BookSyncDriver, type BookSyncHost } from './book-sync.js';
import type { Normalizer } from './normalizer.js';

export interface ResubscribeRules {
  newNormalizer(host: BookSyncHost): Normalizer;
  /** The frame's exchange time for the lag statistic (ms), NaN to leave it out. */
  lagMs(msg: unknown): number;
  /** A book frame's symbol, whether it is a snapshot, and the frames that resubscribe its book; null for other frames. */
  book(msg: unknown): { symbol: string; snapshot: boolean; resubscribe: () => string[] } | null;
}

export class ResubscribeBookSync implements BookSyncDriver {
  private normalizer: Normalizer;
  private retiredGaps = 0;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly host: BookSyncHost,
    private readonly rules: ResubscribeRules,
  ) {
    this.normalizer = rules.newNormalizer(host);
  }

  gapsWritten(): number {
    return this.retiredGaps + totalGaps(this.normalizer.gaps);
  }

  onFrame(ts: bigint, msg: unknown, place: InputPlace): void {
    const h = this.host;
    const problemsBefore = h.problems.total;
    const invalidBefore = this.normalizer.invalidFrames;
    const gapsBefore = this.gapsWritten();
    this.normalizer.onMessage(ts, msg, place);
    if (h.problems.total > problemsBefore) h.malformed();
    // A refused frame's time is not a time: it must not move the lag shown.
    const lag = this.normalizer.invalidFrames === invalidBefore ? this.rules.lagMs(msg) : NaN;
    if (Number.isFinite(lag)) h.lag(ts, lag);
    const book = this.rules.book(msg);
    if (book === null) return;
    if (book.snapshot) this.resynced(book.symbol);
    if (this.gapsWritten() > gapsBefore) this.resubscribe(book.symbol, book.resubscribe);
  }

  onClose(ts: bigint): void {
    this.stop();
    for (const stream of this.host.streams.values()) {
      this.host.sink.event(stream, ts, ts, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, Flag.MessageEnd | Flag.NoExchangeTime);
    }
    this.retiredGaps += totalGaps(this.normalizer.gaps);
    this.normalizer = this.rules.newNormalizer(this.host);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Ask for a fresh book snapshot; restart the connection if none comes in time. */
  private resubscribe(symbol: string, frames: () => string[]): void {
    const h = this.host;
    if (this.timers.has(symbol)) return;
    h.resyncRequested();
    h.log(`${h.source}: ${symbol} book broke; resubscribing for a new snapshot`);
    for (const f of frames()) h.send(f);
    this.timers.set(
      symbol,
      setTimeout(() => {
        this.timers.delete(symbol);
        h.restart(`${symbol} book not resynced within ${h.resyncTimeoutMs} ms`);
      }, h.resyncTimeoutMs),
    );
  }

  private resynced(symbol: string): void {
    const t = this.timers.get(symbol);
    if (t) {
      clearTimeout(t);
      this.timers.delete(symbol);
      this.host.snapshotApplied();
    }
  }
}
