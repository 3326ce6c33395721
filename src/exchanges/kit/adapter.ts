// The adapter interface: everything one exchange (one exchange id) means to Latency Lab. Each
// src/exchanges/<exchange>/adapter.ts builds its adapters; src/exchanges/registry.ts lists them.
import type { EventSink, ProblemLog } from '../../data/sink.js';
import type { MarketType } from '../../data/types.js';
import type { ContractSpec } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import type { BookSyncDriver, BookSyncHost } from './book-sync.js';
import type { ConnectionPlan, StreamKind } from './feed.js';
import type { FrameClassifier } from './frames.js';
import type { Normalizer } from './normalizer.js';
import type { SimContext, SimExchangeServer } from './sim.js';

/** The recorder's side: where to connect, what to subscribe, heartbeats, and how books get in sync. */
export interface FeedAdapter {
  /** The exchange's WebSocket root (wss://fstream.binance.com). */
  readonly wsRoot: string;
  /** The exchange's REST root, where book sync needs REST snapshots. */
  readonly restRoot?: string;
  /** Connections for these symbols under `root` (the exchange's, or a simulator's). */
  plan(symbols: string[], kinds: readonly StreamKind[], opts: { root: string; bookDepth?: number }): ConnectionPlan[];
  /** Book depths the depth stream can be subscribed at (the first is the default), where the exchange offers a choice. */
  readonly bookDepths?: readonly number[];
  /** Client heartbeat: what to send, how often, whether only when idle, and how the pong looks. */
  readonly heartbeat?: { text: string; intervalMs: number; whenIdle: boolean; isPong(text: string): boolean };
  /** REST request-weight limit per minute, where book sync uses REST. */
  readonly restWeightLimit?: number;
  /** The book-sync driver of one connection. */
  bookSync(host: BookSyncHost): BookSyncDriver;
}

/** The simulator's side: the exchange's server, and which channel a recorded frame replays. */
export interface SimAdapter {
  /** Which dataset channel a recorded frame replays. */
  readonly frames: FrameClassifier;
  createServer(ctx: SimContext, opts: { binancePingMs?: number }): SimExchangeServer;
  /**
   * One more path prefix the simulator serves this exchange under (/<name>): a host it shares with others as
   * the real exchange does (Bybit: spot and linear on one host, the category in the path or query), or the
   * real host's name where clients read it from the URL. A request there goes to the first served exchange
   * of that name that claims it, else to the first served one.
   */
  readonly sharedHost?: { name: string; claims(path: string, query: URLSearchParams): boolean };
}

/** How capture formats name this exchange: the importers find exchanges by these. */
export interface CaptureNames {
  /** cryptofeed raw captures: the header's exchange name (BYBIT); where one name covers several ids, which
   *  connection address (WebSocket path or REST query) belongs to this one. */
  cryptofeed?: { name: string; ownsAddress?(url: string): boolean };
  /** hftbacktest collector files: the file-name prefixes of this market, and whether a depthUpdate payload is its. */
  hftbacktest?: { filePrefixes: readonly string[]; ownsDepthUpdate(d: Record<string, unknown>): boolean };
}

export interface ExchangeAdapter {
  /** The exchange id datasets and the CLI use: binance-usdm, okx. */
  readonly id: string;
  /** What kind of instrument `symbol` is; throws for a symbol this exchange does not write like that. */
  market(symbol: string): MarketType;
  /** The contract of `symbol`: kind, base/quote, contract value, tick and lot size where published. */
  contractSpec(symbol: string, overrides?: { contractValue?: number }): ContractSpec;
  /** The base-tier maker/taker rates for `symbol` (some exchanges price spot and swaps apart). */
  defaultFees(symbol?: string): FeeRates;
  /** The base order-entry rate limits. */
  readonly rateLimits: readonly RateWindow[];
  /** A normalizer writing into `sink`. */
  normalizer(sink: EventSink, problems: ProblemLog): Normalizer;
  /** The one classifier of the exchange's frames (for the recorder and the simulator; absent without both). */
  readonly frames?: FrameClassifier;
  /** The capture formats that hold this exchange. */
  readonly captures?: CaptureNames;
  /** Absent: the recorder cannot record this exchange. */
  readonly feed?: FeedAdapter;
  /** Absent: the simulator has no server side for this exchange. */
  readonly sim?: SimAdapter;
  // Order entry for live trading (a later issue) joins here as one more optional side.
}
