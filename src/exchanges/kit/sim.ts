// What an exchange's simulator server side implements, and what the shared simulator (src/exchange-sim/)
// offers it. Both sides import this file; the exchange folders never import src/exchange-sim.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { BookBuilder } from '../../book/book-builder.js';
import type { ExchangeId, StreamInfo } from '../../data/types.js';
import type { EventMessage } from './sim-frames.js';
import { shown } from './json.js';

/** Subscriptions one connection may hold (Bybit, OKX; Binance's own limit is 1024 streams too). */
export const MAX_SUBSCRIPTIONS = 1024;

/** The longest client text (an id, a request) a reply quotes back in full. */
export const MAX_ECHO_CHARS = 256;

/**
 * A client's request id as a reply may echo it: a string up to MAX_ECHO_CHARS or a finite number as is,
 * anything else (objects, arrays, huge strings) as shown() quotes it, cut short and two levels deep, so a
 * nested or huge id can neither overflow the stack nor be sent back whole.
 */
export function echoedId(v: unknown): string | number {
  if (typeof v === 'string' && v.length <= MAX_ECHO_CHARS) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return shown(v);
}

/** A client's text as an error message quotes it: at most MAX_ECHO_CHARS characters, then "…". */
export function quotedText(text: string): string {
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS)}…`;
}

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

/** One client connection as an exchange's server side sees it (src/exchange-sim/connection.ts implements it). */
export interface SimClient {
  readonly id: number;
  /** A connection id as exchanges print them (Bybit conn_id, OKX connId). */
  readonly connId: string;
  readonly ws: WebSocket;
  readonly closed: boolean;
  /** A stall fault holds the connection's frames back. */
  readonly stalled: boolean;
  /** A market-data frame. `book`: a depth/book message (the ones the "skip" fault drops). */
  sendData(text: string, book: boolean): void;
  /** A reply to the client (ack, pong, error): not counted as market data. */
  sendReply(text: string): void;
  /** Apply a connection fault (the server side uses `drop` for unanswered pings). */
  apply(f: Fault): void;
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
  onConnection(conn: SimClient, path: string, query: URLSearchParams): void;
  /** A frame from the client. */
  onClientMessage(conn: SimClient, text: string): void;
  onClose(conn: SimClient): void;
  /**
   * Market metadata (instruments, server time, ping): answered before `onRest` and without starting the replay
   * clock, so a client loading markets does not consume the dataset before it subscribes. False: not metadata.
   */
  onMetadataRest?(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean;
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
  shutdownNotice(conn: SimClient): string[];
  /** The body of an HTTP 429. */
  tooManyRequestsBody(): string;
  /**
   * The exchange's error reply to a client frame the server side failed on (an exception in
   * onClientMessage): the simulator sends it instead of dying. `why` is already cut short.
   */
  errorFrame(conn: SimClient, why: string): string;
  /** The exchange's HTTP status and body for a REST request the server side failed on. */
  restError(why: string): { status: number; body: string };
}
