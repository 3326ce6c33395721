// One client WebSocket connection of the simulator, and the faults that act on it.
// Market-data frames go through sendData (counted, subject to skip/malformed/stall and the fault plan);
// replies (acks, pongs) through sendReply (subject to stall only).
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ExchangeId } from '../data/types.js';
import type { Fault, SimClient } from '../exchanges/kit/sim.js';
import type { FaultPlanEntry } from './types.js';

export interface ConnectionHooks {
  /** A frame went out: for the server's counters. */
  sent(bytes: number, data: boolean): void;
  /** A fault fired on this connection (a REST one is handed to the server). */
  fired(conn: SimConnection, f: Fault, why: string): void;
  /** The 24-hour-limit notice frames for this connection. */
  shutdownNotice(conn: SimConnection): string[];
  /** The connection left more than `maxBufferedBytes` unread and was cut off. */
  overflowed(conn: SimConnection, buffered: number): void;
}

let nextId = 1;

export class SimConnection implements SimClient {
  readonly id: number;
  /** A connection id as exchanges print them (Bybit conn_id, OKX connId). */
  readonly connId: string;
  /** Market-data frames sent on this connection. */
  messagesSent = 0;
  closed = false;
  /** Book/depth messages still to skip (fault "skip"). */
  private skipLeft = 0;
  private malformedNext = false;
  private stallTimer: NodeJS.Timeout | null = null;
  private queue: { text: string; data: boolean }[] = [];
  /** Characters in `queue` (kept so that `buffered` is O(1) on every write). */
  private queuedChars = 0;
  private readonly firedPlan = new Set<FaultPlanEntry>();

  constructor(
    readonly ws: WebSocket,
    readonly exchange: ExchangeId,
    readonly path: string,
    private readonly plan: FaultPlanEntry[],
    /** Plan entries with `once` that already fired (shared by all connections). */
    private readonly spentOnce: Set<FaultPlanEntry>,
    private readonly hooks: ConnectionHooks,
    /** The most this client may leave unread (socket buffer plus stall queue) before it is cut off. */
    private readonly maxBufferedBytes = Infinity,
  ) {
    this.id = nextId++;
    this.connId = randomBytes(10).toString('hex');
    ws.on('close', () => this.dispose());
  }

  get stalled(): boolean {
    return this.stallTimer !== null;
  }

  /** Bytes waiting in the socket and in the stall queue. */
  get buffered(): number {
    return this.ws.bufferedAmount + this.queuedChars;
  }

  /** Plan entries with at == 0 fire when the connection opens. */
  opened(): void {
    this.checkPlan();
  }

  /** A market-data frame. `book`: a depth/book message (the ones "skip" drops). */
  sendData(text: string, book: boolean): void {
    if (this.closed) return;
    if (book && this.skipLeft > 0) {
      this.skipLeft--;
      return;
    }
    if (this.malformedNext) {
      this.malformedNext = false;
      text = text.slice(0, Math.max(1, text.length >> 1));
    }
    this.messagesSent++;
    this.write(text, true);
    this.checkPlan();
  }

  /** A reply to the client (ack, pong, error): not counted as market data. */
  sendReply(text: string): void {
    if (this.closed) return;
    this.write(text, false);
  }

  private write(text: string, data: boolean): void {
    // A client that does not read is cut off rather than holding the server's memory (a stall's queue
    // counts too: the client would get it all at once).
    const buffered = this.buffered + text.length;
    if (buffered > this.maxBufferedBytes) {
      this.dispose();
      this.ws.terminate();
      this.hooks.overflowed(this, buffered);
      return;
    }
    if (this.stallTimer) {
      this.queue.push({ text, data });
      this.queuedChars += text.length;
      return;
    }
    this.ws.send(text);
    this.hooks.sent(Buffer.byteLength(text), data);
  }

  private checkPlan(): void {
    for (const e of this.plan) {
      if (e.at !== this.messagesSent || this.firedPlan.has(e) || this.spentOnce.has(e)) continue;
      if (e.exchange !== undefined && e.exchange !== this.exchange) continue;
      this.firedPlan.add(e);
      if (e.once) this.spentOnce.add(e);
      this.hooks.fired(this, e.fault, `plan at ${e.at}`);
      if (this.closed) return;
    }
  }

  /** Apply a connection fault (rest-429 is the server's). */
  apply(f: Fault): void {
    if (this.closed) return;
    switch (f.kind) {
      case 'drop':
        this.dispose();
        this.ws.terminate();
        break;
      case 'skip':
        this.skipLeft += f.count;
        break;
      case 'malformed':
        this.malformedNext = true;
        break;
      case 'stall':
        if (this.stallTimer) clearTimeout(this.stallTimer);
        this.stallTimer = setTimeout(() => this.endStall(), f.ms);
        break;
      case '24h-close': {
        this.endStall();
        for (const n of this.hooks.shutdownNotice(this)) this.write(n, false);
        this.dispose();
        this.ws.close(1000);
        break;
      }
      case 'rest-429':
        break;
    }
  }

  private endStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    const q = this.queue;
    this.queue = [];
    this.queuedChars = 0;
    if (this.closed) return;
    for (const { text, data } of q) {
      this.ws.send(text);
      this.hooks.sent(Buffer.byteLength(text), data);
    }
  }

  private dispose(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.queue = [];
    this.queuedChars = 0;
    this.closed = true;
  }
}
