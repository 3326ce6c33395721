// The exchange simulator's public types. What an exchange's server side implements (and the faults it may
// apply to a connection) is in src/exchanges/kit/sim.ts, below both the simulator and the exchanges.
import type { ExchangeId } from '../data/types.js';
import type { Fault } from '../exchanges/kit/sim.js';

export type { Fault, ReplayFrame, SimContext, SimExchangeServer } from '../exchanges/kit/sim.js';

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
  /**
   * The largest client WebSocket message and HTTP request body accepted, bytes (default
   * DEFAULT_MAX_PAYLOAD_BYTES, 64 KiB). A larger WebSocket message closes that connection with 1009; a
   * larger body gets HTTP 413 and the connection is closed. Nothing of it is echoed.
   */
  maxPayloadBytes?: number;
  /**
   * The most one client may leave unread (socket buffer plus a stall's queue), bytes (default
   * DEFAULT_MAX_BUFFERED_BYTES, 16 MiB). A client past it is disconnected (1006) rather than growing memory.
   */
  maxBufferedBytes?: number;
  /** Log lines of one kind (connections, client errors, ...) per minute before they are only counted (default 100). */
  maxLogLinesPerMinute?: number;
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
  /** Client messages and REST requests whose handler threw: answered with the exchange's error, logged, counted. */
  handlerErrors: number;
  /** HTTP requests refused before any exchange saw them: a URL that does not parse, a body over maxPayloadBytes. */
  requestsRefused: number;
  /** Connections closed for a message over maxPayloadBytes (1009). */
  oversizeMessages: number;
  /** Connections cut off for leaving more than maxBufferedBytes unread. */
  slowClientsCut: number;
  /** Log lines over maxLogLinesPerMinute, counted instead of written. */
  logLinesSuppressed: number;
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

