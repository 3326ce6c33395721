// The exchange simulator's public types and the interface each exchange's server side implements.
// The shared machinery (HTTP server, routing, replay clock, faults) lives in src/exchange-sim/; what an
// exchange's wire protocol looks like lives in src/exchanges/<exchange>/sim-server.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BookBuilder } from '../book/book-builder.js';
import type { ExchangeId, StreamInfo } from '../data/types.js';
import type { SimConnection } from './connection.js';
import type { EventMessage } from './synth.js';

/** A fault a test (or a user) can inject. */
export type Fault =
  /** Terminate the TCP connection without a close frame (the client sees 1006). */
  | { kind: 'drop' }
  /** Do not send the next `count` depth/book messages on the connection: the client sees a sequence gap. */
  | { kind: 'skip'; count: number }
  /** Send the next market-data frame cut in half: a frame that is not valid JSON (the message is lost). */
  | { kind: 'malformed' }
  /** Send nothing for `ms` milliseconds (the socket stays open); what was due is sent afterwards. */
  | { kind: 'stall'; ms: number }
  /** Close as the exchange's 24-hour limit does: Binance's serverShutdown notice (OKX: notice 64008), then close 1000. */
  | { kind: '24h-close' }
  /** The next `count` REST requests get HTTP 429 with Retry-After and Binance's -1003 body. */
  | { kind: 'rest-429'; count: number };

export type FaultKind = Fault['kind'];

export interface FaultPlanEntry {
  /** Fire once a connection has sent this many market-data frames (0: as soon as it opens). */
  at: number;
  fault: Fault;
  /** Only connections of this exchange (default: every exchange). */
  exchange?: ExchangeId;
  /** Fire on the first connection that reaches `at` only (default: on every connection that does). */
  once?: boolean;
}

export type FaultPlan = FaultPlanEntry[];

export interface ExchangeSimOptions {
  /** Dataset folder. */
  dataset: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Replay speed: 1 = recorded pace (default), 10 = ten times faster, 'max' = as fast as the sockets drain. */
  speed?: number | 'max';
  faults?: FaultPlan;
  /** Start again from the beginning when the dataset ends (default false: play once). */
  loop?: boolean;
  /**
   * When the replay clock starts: 'first-client' (default) = with the first WebSocket subscription or REST
   * request, so a bot started after the server sees the data from the beginning; 'listen' = at once.
   */
  start?: 'first-client' | 'listen';
  /** Server ping interval on Binance connections, ms (default: 20 000 spot, 180 000 futures). */
  binancePingMs?: number;
  /** A REST snapshot asked for while the book is not yet known waits this long, then gets 503 (default 10 000 ms). */
  restWaitMs?: number;
  /** Log lines (connections, faults) go here; default: nowhere. */
  log?: (line: string) => void;
}

export interface ExchangeSimStats {
  /** WebSocket connections open now. */
  connections: number;
  /** WebSocket connections accepted since the start. */
  connectionsTotal: number;
  /** Market-data frames sent, all connections. */
  messagesSent: number;
  bytesSent: number;
  /** Recorded frames the replay clock has played, plus messages synthesized from events (whether or not anyone subscribed to them). */
  framesReplayed: number;
  restRequests: number;
  rest429: number;
  faultsFired: number;
  /** Dataset position: recorded local time (ns since the epoch, decimal string), or null before the start. */
  positionNs: string | null;
  /** Times the dataset was played to its end. */
  passes: number;
  finished: boolean;
}

export interface ExchangeSim {
  port: number;
  /** ws://host:port/<exchange> */
  baseUrl(exchange: ExchangeId): string;
  /** http://host:port/<exchange> */
  restUrl(exchange: ExchangeId): string;
  /** The exchanges served: those the dataset holds recorded frames or events for. */
  exchanges: ExchangeId[];
  stats(): ExchangeSimStats;
  /** Inject a fault now: on every open connection (rest-429: on the REST API). */
  fault(f: Fault): void;
  /** Resolves when the dataset has been fully sent to all subscribers (and when the server closes). */
  done: Promise<void>;
  close(): Promise<void>;
}

/** One recorded frame as the replay clock hands it to an exchange's server side. */
export interface ReplayFrame {
  /** Recorded local time, ns relative to the dataset origin. */
  t: number;
  exchange: ExchangeId;
  text: string;
}

/** What the shared server offers an exchange's server side. */
export interface SimContext {
  readonly streams: readonly StreamInfo[];
  /** The dataset's books, rebuilt from its normalized events in step with the replay. */
  readonly books: BookBuilder;
  /** Stream index of (exchange, symbol), or -1. */
  streamIndex(exchange: ExchangeId, symbol: string): number;
  /** Recorded local time of the replay position, ms since the epoch (the simulated "now"). */
  nowMs(): number;
  /** A client subscribed or asked for something: starts the replay clock if it waits for one. */
  clientActive(): void;
  /** Wait until `ready()` holds (the replay moves on meanwhile), at most the configured REST wait. */
  waitFor(ready: () => boolean): Promise<boolean>;
  log(line: string): void;
}

/** The server side of one exchange (or one family: Binance spot/USD-M/COIN-M share one class). */
export interface SimExchangeServer {
  readonly exchange: ExchangeId;
  /** WebSocket upgrade for `path` (below /<exchange>): true if the path is one of the exchange's. */
  acceptsWebSocket(path: string): boolean;
  /** A WebSocket connection was accepted on `path` with `query`. */
  onConnection(conn: SimConnection, path: string, query: URLSearchParams): void;
  /** A frame from the client. */
  onClientMessage(conn: SimConnection, text: string): void;
  onClose(conn: SimConnection): void;
  /** A REST request below /<exchange>; false if the path is not one the simulator serves (404). */
  onRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean;
  /** A recorded frame reached its time: send it to the subscribers. */
  onFrame(frame: ReplayFrame): void;
  /**
   * A message (event rows up to MessageEnd) of a stream channel the dataset holds no recorded frames for,
   * at its local time: send the frames the exchange would have sent for it. Its rows are already applied
   * to `ctx.books`.
   */
  onEventMessage(m: EventMessage): void;
  /** The dataset starts again (loop): forget per-stream state. */
  onRestart(): void;
  /** The frame(s) sent before a 24-hour-limit close, or none. */
  shutdownNotice(conn: SimConnection): string[];
  /** The body of an HTTP 429. */
  tooManyRequestsBody(): string;
}
