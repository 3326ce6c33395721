// The recorder's book-sync driver of one connection, and what the recorder offers it. The recorder keeps the
// connection's lifecycle and the statistics; the driver, written by each exchange, decides how a book gets
// (back) in sync: Binance fetches REST snapshots, Bybit and OKX resubscribe (resubscribe-sync.ts).
import type { EventSink, InputPlace, ProblemLog } from '../../data/sink.js';

export interface RetryBackoff {
  /** The next delay, ms. */
  next(): number;
  reset(): void;
}

/** A REST GET within the exchange's request-weight limit, retried on network errors and 5xx. */
export interface RestSnapshots {
  get(url: string, weight: number, signal: AbortSignal, validate: (text: string) => string | null): Promise<{ ts: bigint; text: string }>;
  /** Responses received so far (the line number of the next REST raw row). */
  readonly received: number;
  /** Whether an error is the server refusing the request (4xx): it will not fix itself quickly. */
  isClientError(e: unknown): boolean;
}

export interface BookSyncHost {
  readonly exchange: string;
  /** "binance-usdm ws1": names the connection in raw rows and log lines. */
  readonly source: string;
  readonly sink: EventSink;
  readonly problems: ProblemLog;
  /** The connection's symbols and their stream indexes. */
  readonly streams: ReadonlyMap<string, number>;
  /** REST snapshots, or null when the recorder fetches none. */
  readonly rest: RestSnapshots | null;
  readonly restRoot: string;
  /** REST snapshot depth asked for by the user; undefined: the exchange's default. */
  readonly snapshotLimit: number | undefined;
  readonly resyncTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly connected: boolean;
  send(text: string): void;
  /** Close and reopen the connection. */
  restart(reason: string): void;
  newBackoff(): RetryBackoff;
  log(line: string): void;
  /** Statistics: local − exchange time of a frame, a frame the normalizer rejected, a resync asked for, a book resynced. */
  lag(localTs: bigint, exchMs: number): void;
  malformed(): void;
  resyncRequested(): void;
  snapshotApplied(): void;
}

export interface BookSyncDriver {
  /** A parsed data frame (not a heartbeat), already kept raw. */
  onFrame(ts: bigint, msg: unknown, place: InputPlace): void;
  /** The socket closed: write the books' Disconnect rows; they are unknown until their next snapshot. */
  onClose(ts: bigint): void;
  /** Gap rows written over the connection's life. */
  gapsWritten(): number;
  /** Cancel timers. */
  stop(): void;
}

export function totalGaps(gaps: Readonly<Record<string, number>>): number {
  let t = 0;
  for (const v of Object.values(gaps)) t += v;
  return t;
}
