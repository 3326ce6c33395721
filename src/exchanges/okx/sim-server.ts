// The exchange simulator's OKX v5 side (public WebSocket), as OKX serves it (docs/exchange-sim.md, shared
// exchange-protocols.md B4).
//
// /ws/v5/public: text "ping" → "pong"; {"op":"subscribe","args":[{"channel","instId"}],"id"?} → one
// {"event":"subscribe","arg":{...},"connId"} per arg. books: on subscribe a snapshot of the current book
// (the recorded level arrays, top 400, checksum computed with the project's checksum code over the strings
// sent, seqId = the last one played where the recording has them), then the recorded updates as they
// were: their checksums hold because the snapshot carries OKX's own strings. trades and other recorded
// channels: the recorded frames. REST GET /api/v5/market/books answers from the same book.
// A dataset without recorded frames for an instrument's channel gets them generated from its events: book
// messages become books snapshot/update frames (seqId/prevSeqId from id/prev_id where the dataset has them,
// a checksum computed over the level strings sent), trades trades frames. They take the recorded frames'
// path from there on (so a late subscriber's snapshot carries the same strings).
import type { IncomingMessage, ServerResponse } from 'node:http';

import { TextBook, levelsJson, type TextLevel } from '../kit/text-book.js';
import { echoedId, MAX_SUBSCRIPTIONS, quotedText, type ReplayFrame, type SimClient, type SimContext, type SimExchangeServer } from '../kit/sim.js';
import { decimalText, exchMs, type EventMessage, type EventRow } from '../kit/sim-frames.js';
import { EventKind, Flag } from '../../data/types.js';
import { isObject } from '../kit/json.js';
import { OkxBook } from './book.js';
import { okxChecksum } from './checksum.js';
import { okxMetadata } from './sim-metadata.js';

interface Sub {
  conn: SimClient;
  arg: { channel: string; instId: string };
  book: boolean;
  waitingSnapshot: boolean;
}

interface BookState {
  text: TextBook;
  seqId: number | null;
  ts: string | null;
}

/** Book channels whose updates the simulator maintains a book for. */
const BOOK_CHANNELS = new Set(['books', 'books-l2-tbt', 'books50-l2-tbt']);
/** Public channels a client may subscribe to (recorded ones get data). */
const PUBLIC_CHANNELS = new Set([
  'books', 'books5', 'bbo-tbt', 'books-l2-tbt', 'books50-l2-tbt', 'trades', 'tickers', 'mark-price', 'index-tickers',
  'funding-rate', 'open-interest', 'price-limit', 'estimated-price', 'liquidation-orders', 'opt-summary', 'status', 'instruments',
]);
/** OKX instIds are short ("BTC-USD-SWAP", option ids ~30 characters); longer ones are refused, not echoed. */
const MAX_INST_ID_CHARS = 64;
const SNAPSHOT_DEPTH: Record<string, number> = { books: 400, 'books-l2-tbt': 400, 'books50-l2-tbt': 50 };

const key = (channel: string, instId: string) => `${channel}:${instId}`;

/** OKX's checksum of the levels as sent (top 25 a side; the project's checksum code). */
export function okxChecksumOfLevels(bids: readonly TextLevel[], asks: readonly TextLevel[]): number {
  const book = new OkxBook();
  for (const l of bids) book.bids.set(l[0]!, l[1]!, Number(l[0]), Number(l[1]));
  for (const l of asks) book.asks.set(l[0]!, l[1]!, Number(l[0]), Number(l[1]));
  return okxChecksum(book);
}

export class OkxSimServer implements SimExchangeServer {
  readonly exchange = 'okx' as const;
  private readonly byKey = new Map<string, Set<Sub>>();
  private readonly conns = new Map<SimClient, Map<string, Sub>>();
  /** channel:instId → book. */
  private readonly books = new Map<string, BookState>();
  /** instId → the book of the frames synthesized from events, with the strings sent (for their checksums). */
  private readonly synthBooks = new Map<string, OkxBook>();
  /** Stand-in trade ids for trades the dataset holds without one. */
  private tradeIds = 0;

  constructor(private readonly ctx: SimContext) {}

  acceptsWebSocket(path: string): boolean {
    return path === '/ws/v5/public';
  }

  onConnection(conn: SimClient): void {
    this.conns.set(conn, new Map());
  }

  onClose(conn: SimClient): void {
    const subs = this.conns.get(conn);
    if (!subs) return;
    for (const [k, s] of subs) this.dropSub(k, s);
    this.conns.delete(conn);
  }

  /** Forget a subscription; a key nobody follows leaves no entry (clients may name any instId). */
  private dropSub(k: string, sub: Sub): void {
    const set = this.byKey.get(k);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.byKey.delete(k);
  }

  onClientMessage(conn: SimClient, text: string): void {
    const subs = this.conns.get(conn);
    if (!subs) return;
    if (text === 'ping') {
      conn.sendReply('pong');
      return;
    }
    // OKX quotes the whole request in 60012; the simulator quotes at most MAX_ECHO_CHARS of it, and echoes
    // an id only as echoedId() gives it (a nested id would overflow JSON.stringify's stack).
    const error = (code: string, msg: string, id?: unknown) =>
      conn.sendReply(JSON.stringify({ ...(id !== undefined ? { id: echoedId(id) } : {}), event: 'error', code, msg, connId: conn.connId }));
    const invalid = `Invalid request: ${quotedText(text)}`;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      error('60012', invalid);
      return;
    }
    if (!isObject(msg)) {
      error('60012', invalid);
      return;
    }
    const id = msg.id;
    const op = msg.op;
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      error('60012', invalid, id);
      return;
    }
    if (!Array.isArray(msg.args) || msg.args.length === 0) {
      error('60012', invalid, id);
      return;
    }
    const wanted: { channel: string; instId: string }[] = [];
    for (const a of msg.args) {
      if (!isObject(a) || typeof a.channel !== 'string' || typeof a.instId !== 'string') {
        error('60012', invalid, id);
        return;
      }
      if (!PUBLIC_CHANNELS.has(a.channel) || a.instId.length > MAX_INST_ID_CHARS) {
        error('60018', `Wrong URL or channel:${quotedText(a.channel)},instId:${quotedText(a.instId)} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`, id);
        return;
      }
      wanted.push({ channel: a.channel, instId: a.instId });
    }
    const ack = (event: string, arg: { channel: string; instId: string }) =>
      conn.sendReply(JSON.stringify({ ...(id !== undefined ? { id: echoedId(id) } : {}), event, arg, connId: conn.connId }));
    if (op === 'subscribe') {
      const fresh = new Set(wanted.map((a) => key(a.channel, a.instId)).filter((k) => !subs.has(k)));
      if (subs.size + fresh.size > MAX_SUBSCRIPTIONS) {
        error('60012', `Invalid request: too many subscriptions (at most ${MAX_SUBSCRIPTIONS} per connection)`, id);
        return;
      }
      for (const arg of wanted) {
        const k = key(arg.channel, arg.instId);
        ack('subscribe', arg);
        if (subs.has(k)) continue;
        const sub: Sub = { conn, arg, book: BOOK_CHANNELS.has(arg.channel), waitingSnapshot: false };
        subs.set(k, sub);
        let set = this.byKey.get(k);
        if (!set) this.byKey.set(k, (set = new Set()));
        set.add(sub);
        if (sub.book) this.sendSnapshot(sub);
      }
      this.ctx.clientActive();
    } else {
      for (const arg of wanted) {
        const k = key(arg.channel, arg.instId);
        const sub = subs.get(k);
        if (sub) {
          subs.delete(k);
          this.dropSub(k, sub);
        }
        ack('unsubscribe', arg);
      }
    }
  }

  private knownBook(channel: string, instId: string): BookState | null {
    const b = this.books.get(key(channel, instId));
    const stream = this.ctx.streamIndex('okx', instId);
    if (!b || !b.text.known || (stream >= 0 && !this.ctx.books.isValid(stream))) return null;
    return b;
  }

  private sendSnapshot(sub: Sub): void {
    const { channel, instId } = sub.arg;
    const b = this.knownBook(channel, instId);
    if (!b) {
      sub.waitingSnapshot = true;
      return;
    }
    const depth = SNAPSHOT_DEPTH[channel] ?? 400;
    const bids = b.text.bids.top(depth);
    const asks = b.text.asks.top(depth);
    const checksum = okxChecksumOfLevels(bids, asks);
    const seq = b.seqId !== null ? `,"prevSeqId":-1,"seqId":${b.seqId}` : '';
    const ts = b.ts ?? String(this.ctx.nowMs());
    sub.conn.sendData(
      `{"arg":${JSON.stringify(sub.arg)},"action":"snapshot","data":[{"asks":${levelsJson(asks)},"bids":${levelsJson(bids)},"ts":${JSON.stringify(ts)},"checksum":${checksum}${seq}}]}`,
      true,
    );
  }

  onFrame(frame: ReplayFrame): void {
    if (frame.text === 'pong') return;
    let msg: unknown;
    try {
      msg = JSON.parse(frame.text);
    } catch {
      return;
    }
    if (!isObject(msg) || msg.event !== undefined || !isObject(msg.arg)) return; // acks, notices
    const { channel, instId } = msg.arg;
    if (typeof channel !== 'string' || typeof instId !== 'string') return;
    const k = key(channel, instId);
    const isBook = BOOK_CHANNELS.has(channel);
    const snapshot = isBook && msg.action === 'snapshot';
    if (isBook) this.track(k, msg);
    const subs = this.byKey.get(k);
    if (!subs || subs.size === 0) return;
    for (const sub of subs) {
      if (sub.waitingSnapshot) {
        if (!snapshot) continue;
        sub.waitingSnapshot = false;
      }
      sub.conn.sendData(frame.text, isBook);
    }
  }

  private track(k: string, msg: Record<string, unknown>): void {
    let b = this.books.get(k);
    if (!b) {
      b = { text: new TextBook(), seqId: null, ts: null };
      this.books.set(k, b);
    }
    if (!Array.isArray(msg.data)) return;
    for (const d of msg.data) {
      if (!isObject(d)) continue;
      if (msg.action === 'snapshot') b.text.clear();
      for (const l of Array.isArray(d.bids) ? d.bids : []) b.text.bids.set(l);
      for (const l of Array.isArray(d.asks) ? d.asks : []) b.text.asks.set(l);
      if (msg.action === 'snapshot') b.text.known = true;
      if (typeof d.seqId === 'number') b.seqId = d.seqId;
      if (typeof d.ts === 'string') b.ts = d.ts;
    }
  }

  onRestart(): void {
    for (const b of this.books.values()) b.text.clear();
    this.synthBooks.clear();
  }

  // ---- frames synthesized from events ----

  onEventMessage(m: EventMessage): void {
    const instId = this.ctx.streams[m.stream]!.symbol;
    const rows = m.rows;
    const last = rows[rows.length - 1]!;
    const ts = JSON.stringify(String(exchMs(last.exchTs)));
    const send = (text: string) => this.onFrame({ t: m.t, exchange: 'okx', text });
    switch (m.kind) {
      case EventKind.BookSnapshot:
      case EventKind.BookLevel: {
        const snapshot = m.kind === EventKind.BookSnapshot;
        if (snapshot && !(last.flags & Flag.SnapshotEnd)) return;
        let book = this.synthBooks.get(instId);
        if (!book) this.synthBooks.set(instId, (book = new OkxBook()));
        if (snapshot) book.clear();
        const bids: string[] = [];
        const asks: string[] = [];
        for (const r of rows as EventRow[]) {
          if (!Number.isFinite(r.price)) continue;
          const px = decimalText(r.price);
          const sz = decimalText(r.size);
          (r.side > 0 ? book.bids : book.asks).set(px, sz, r.price, r.size);
          // The dataset does not hold order counts: "1" for a live level, "0" for a deleted one.
          (r.side > 0 ? bids : asks).push(`["${px}","${sz}","0","${r.size > 0 ? 1 : 0}"]`);
        }
        const seq = last.id >= 0n ? `,"prevSeqId":${snapshot ? -1 : last.prevId},"seqId":${last.id}` : '';
        const arg = `{"channel":"books","instId":${JSON.stringify(instId)}}`;
        send(`{"arg":${arg},"action":"${snapshot ? 'snapshot' : 'update'}","data":[{"asks":[${asks.join(',')}],"bids":[${bids.join(',')}],"ts":${ts},"checksum":${okxChecksum(book)}${seq}}]}`);
        return;
      }
      case EventKind.Trade: {
        const arg = `{"channel":"trades","instId":${JSON.stringify(instId)}}`;
        const items = rows.map((r) => {
          const id = r.id >= 0n ? String(r.id) : `x${++this.tradeIds}`;
          return `{"instId":${JSON.stringify(instId)},"tradeId":"${id}","px":"${decimalText(r.price)}","sz":"${decimalText(r.size)}","side":"${r.side > 0 ? 'buy' : 'sell'}","ts":"${exchMs(r.exchTs)}","count":"1"}`;
        });
        send(`{"arg":${arg},"data":[${items.join(',')}]}`);
        return;
      }
      default:
        return; // gaps and disconnects: the book's next message is a snapshot
    }
  }

  /** instruments and time (sim-metadata.ts); time is the replay clock. */
  onMetadataRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET') return false;
    const instIds = this.ctx.streams.filter((s) => s.exchange === 'okx').map((s) => s.symbol.toUpperCase());
    const m = okxMetadata(path, query, instIds, this.ctx.nowMs());
    if (m === null) return false;
    res.writeHead(m.status, { 'Content-Type': 'application/json' });
    res.end(m.body);
    return true;
  }

  onRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET' || path !== '/api/v5/market/books') return false;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const instId = query.get('instId') ?? '';
    const b = this.knownBook('books', instId);
    if (!b) {
      send(200, { code: '51001', msg: "Instrument ID doesn't exist or its book is not known yet.", data: [] });
      return true;
    }
    const sz = Math.max(1, Math.min(Number(query.get('sz') ?? 1) || 1, 400));
    send(200, { code: '0', msg: '', data: [{ asks: b.text.asks.top(sz), bids: b.text.bids.top(sz), ts: b.ts ?? String(this.ctx.nowMs()), ...(b.seqId !== null ? { seqId: b.seqId } : {}) }] });
    return true;
  }

  tooManyRequestsBody(): string {
    return JSON.stringify({ msg: 'Too Many Requests', code: '50011' });
  }

  errorFrame(conn: SimClient, why: string): string {
    return JSON.stringify({ event: 'error', code: '60012', msg: `Invalid request: ${why}`, connId: conn.connId });
  }

  restError(why: string): { status: number; body: string } {
    return { status: 500, body: JSON.stringify({ code: '50026', msg: `System error, please try again later: ${why}`, data: [] }) };
  }

  shutdownNotice(conn: SimClient): string[] {
    return [JSON.stringify({ event: 'notice', code: '64008', msg: 'The connection will soon be closed for a service upgrade. Please reconnect.', connId: conn.connId })];
  }
}
