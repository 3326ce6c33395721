// One WebSocket connection to an exchange that stays up: it reconnects with exponential backoff
// (1, 2, 4 ... 30 s, reset after a healthy minute), sends the exchange's heartbeat, and treats silence
// (no data frame for `silenceMs`) as a dead connection. Every frame is stamped with the recorder's clock
// the moment it is handed over, before anything parses it.
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';
import { redactSecrets } from './redact.js';

export interface HeartbeatOptions {
  /** Text frame the client sends (Bybit {"op":"ping"}, OKX "ping"). Binance needs none: ws answers server pings. */
  text: string;
  intervalMs: number;
  /** Send only when nothing was received for intervalMs (OKX); otherwise every intervalMs (Bybit). */
  whenIdle: boolean;
}

export interface ConnectionHandlers {
  /** The socket is open (ts = when it opened). Send subscriptions here. */
  onOpen(ts: bigint, url: string): void;
  /** A frame, as text, stamped on arrival. `heartbeat` is true for pongs (they do not count as data). */
  onMessage(ts: bigint, text: string, heartbeat: boolean): void;
  /** A frame the client sent (subscriptions, pings). */
  onSent(ts: bigint, text: string): void;
  /** An open socket closed (ts = when the loss was noticed). Not called for attempts that never opened. */
  onClose(ts: bigint, reason: string): void;
  /** An attempt failed or the socket errored; informational. */
  onError(message: string): void;
}

export interface ConnectionOptions {
  url: string;
  clock: Clock;
  handlers: ConnectionHandlers;
  /** No data frame for this long: the connection is dead and is replaced. Default 10 000 ms. */
  silenceMs?: number;
  heartbeat?: HeartbeatOptions;
  /** Frames that are heartbeat replies, not data. */
  isHeartbeat?: (text: string) => boolean;
  backoff?: BackoffOptions;
  /** Up this long without trouble: the backoff starts again from its base. Default 60 000 ms. */
  healthyMs?: number;
  /** Give up an attempt that has not opened after this long. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

export class FeedConnection {
  readonly url: string;
  private readonly clock: Clock;
  private readonly h: ConnectionHandlers;
  private readonly silenceMs: number;
  private readonly heartbeat: HeartbeatOptions | undefined;
  private readonly isHeartbeat: (text: string) => boolean;
  private readonly healthyMs: number;
  private readonly connectTimeoutMs: number;
  readonly backoff: Backoff;

  private ws: WebSocket | null = null;
  private open = false;
  private stopping = false;
  private lastDataMs = 0;
  private lastRecvMs = 0;
  private lastPingMs = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private healthyTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closeReason: string | null = null;
  private stopped: Promise<void> | null = null;
  private resolveStopped: (() => void) | null = null;

  /** Sockets that opened. */
  opens = 0;
  /** Open sockets that were lost (not counting stop()). */
  losses = 0;
  /** Attempts that failed before opening. */
  failedAttempts = 0;

  constructor(opts: ConnectionOptions) {
    this.url = opts.url;
    this.clock = opts.clock;
    this.h = opts.handlers;
    this.silenceMs = opts.silenceMs ?? 10_000;
    this.heartbeat = opts.heartbeat;
    this.isHeartbeat = opts.isHeartbeat ?? (() => false);
    this.healthyMs = opts.healthyMs ?? 60_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.backoff = new Backoff(opts.backoff);
  }

  get connected(): boolean {
    return this.open;
  }

  start(): void {
    this.connect();
  }

  /** Send a text frame (recorded through onSent). False if the socket is not open. */
  send(text: string): boolean {
    const ws = this.ws;
    if (!ws || !this.open || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    this.h.onSent(this.clock.now(), text);
    return true;
  }

  /** Drop the current socket and reconnect (e.g. a book that cannot be resynced otherwise). */
  restart(reason: string): void {
    if (this.ws && !this.stopping) {
      this.closeReason = reason;
      this.ws.terminate();
    }
  }

  /** Close for good; resolves when the socket is closed. */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearTimers();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.stopped = Promise.resolve();
      return this.stopped;
    }
    this.stopped = new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
      this.closeReason = 'stopped';
      // A polite close first; a peer that does not answer within 1 s is cut off.
      const force = setTimeout(() => ws.terminate(), 1000);
      force.unref();
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'recorder stopping');
    });
    return this.stopped;
  }

  private connect(): void {
    if (this.stopping) return;
    this.closeReason = null;
    const ws = new WebSocket(this.url, { handshakeTimeout: this.connectTimeoutMs, perMessageDeflate: false });
    this.ws = ws;
    const nowMs = () => performance.now();
    ws.on('open', () => {
      this.open = true;
      this.opens++;
      const t = nowMs();
      this.lastDataMs = t;
      this.lastRecvMs = t;
      this.lastPingMs = t;
      this.h.onOpen(this.clock.now(), this.url);
      this.startTimers();
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      // Stamp first: nothing before this line may depend on the frame's size or content.
      const ts = this.clock.now();
      const t = nowMs();
      this.lastRecvMs = t;
      const text = isBinary || !Buffer.isBuffer(data) ? rawToText(data) : data.toString('utf8');
      const hb = this.isHeartbeat(text);
      if (!hb) this.lastDataMs = t;
      this.h.onMessage(ts, text, hb);
    });
    // Any frame from the server, even a ping, shows the socket is alive, but only data frames reset the
    // silence watchdog: a server that answers pings yet sends nothing is stalled.
    ws.on('ping', () => {
      this.lastRecvMs = nowMs();
    });
    ws.on('error', (err: Error) => {
      this.h.onError(`${redactUrl(this.url)}: ${err.message}`);
    });
    ws.on('close', (code: number, reasonBuf: Buffer) => {
      const ts = this.clock.now();
      const wasOpen = this.open;
      this.open = false;
      this.ws = null;
      this.clearTimers();
      const reason = this.closeReason ?? `closed by peer (code ${code}${reasonBuf.length ? `, ${reasonBuf.toString('utf8')}` : ''})`;
      if (wasOpen) {
        if (!this.stopping) this.losses++;
        this.h.onClose(ts, reason);
      } else if (!this.stopping) {
        this.failedAttempts++;
      }
      if (this.stopping) {
        this.resolveStopped?.();
        return;
      }
      const delay = this.backoff.next();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delay);
    });
  }

  private startTimers(): void {
    const tick = Math.max(10, Math.min(1000, Math.floor(this.silenceMs / 4), this.heartbeat ? Math.floor(this.heartbeat.intervalMs / 4) : 1000));
    this.watchdog = setInterval(() => {
      const t = performance.now();
      if (t - this.lastDataMs > this.silenceMs) {
        this.closeReason = `no data for ${this.silenceMs} ms`;
        this.ws?.terminate();
        return;
      }
      const hb = this.heartbeat;
      if (hb && t - this.lastPingMs >= hb.intervalMs && (!hb.whenIdle || t - this.lastRecvMs >= hb.intervalMs)) {
        this.lastPingMs = t;
        this.send(hb.text);
      }
    }, tick);
    this.healthyTimer = setTimeout(() => this.backoff.reset(), this.healthyMs);
  }

  private clearTimers(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.watchdog = null;
    this.healthyTimer = null;
  }
}

function rawToText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A URL without its secrets (user:password, keys and tokens in the query): see redact.ts. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}
