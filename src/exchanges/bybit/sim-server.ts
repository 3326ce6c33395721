// The exchange simulator's Bybit v5 side (spot and linear public streams), as Bybit serves them
// (docs/exchange-sim.md, shared exchange-protocols.md B3).
//
// WebSocket /v5/public/spot or /v5/public/linear: {"op":"subscribe","args":[topics],"req_id"?} with the
// ack shapes of each category (spot and linear differ), {"op":"ping"} → pong. orderbook.N.SYMBOL: on
// subscribe a snapshot of the current book (the recorded level strings, top N levels, u = the last update
// played, its seq/ts/cts), then the recorded deltas. Other topics (publicTrade, tickers, kline, ...) are
// the recorded frames. REST GET /v5/market/orderbook answers from the same book.
// A dataset without recorded frames for a symbol's channel gets them generated from its events: book
// messages become orderbook.N snapshot/delta frames (u = id; N from the first snapshot's size), trades
// publicTrade frames, BBO pairs orderbook.1 frames. They take the recorded frames' path from there on.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { TextBook, levelsJson, type TextLevel } from '../kit/text-book.js';
import { echoedId, MAX_SUBSCRIPTIONS, quotedText, type ReplayFrame, type SimClient, type SimContext, type SimExchangeServer } from '../kit/sim.js';
import { decimalText, exchMs, type EventMessage, type EventRow } from '../kit/sim-frames.js';
import { EventKind, Flag } from '../../data/types.js';
import { isObject, shown } from '../kit/json.js';
import { splitTopic } from './messages.js';
import { bybitMetadata, bybitTimeBody } from './sim-metadata.js';

type Category = 'spot' | 'linear';

interface Sub {
  conn: SimClient;
  topic: string;
  book: boolean;
  /** Subscribed while the book was unknown: nothing until the next recorded snapshot. */
  waitingSnapshot: boolean;
}

/** The top-N book a subscriber of a smaller depth than the recorded one follows (Bybit sends each depth's own deltas). */
interface DepthView {
  n: number;
  bids: Map<number, TextLevel>;
  asks: Map<number, TextLevel>;
}

interface BookState {
  text: TextBook;
  /** Depth of the recorded topic (200 for orderbook.200.X). */
  recordedDepth: number;
  views: Map<number, DepthView>;
  symbol: string;
  recordedTopic: string;
  u: number;
  seq: number | null;
  ts: number | null;
  cts: number | null;
}

const DEPTHS: Record<Category, string[]> = { spot: ['1', '50', '200', '1000'], linear: ['1', '50', '200', '500', '1000'] };
const CHANNELS = new Set(['orderbook', 'publicTrade', 'tickers', 'kline', 'allLiquidation', 'liquidation', 'insurance', 'adlAlert', 'priceLimit', 'lt', 'tickers_lt', 'kline_lt']);
const SPOT_MAX_ARGS = 10;
/** Bybit topics are short ("orderbook.200.BTCUSDT"); longer ones are refused, so a connection's topics stay small. */
const MAX_TOPIC_CHARS = 128;
/** Stands for the subscriber's topic in a frame built once for all subscribers of one depth. */
const TOPIC_PLACEHOLDER = '"\u0000TOPIC\u0000"';

/** Per-symbol state of the frames synthesized from events. */
interface SynthState {
  /** The orderbook depth the synthesized frames use (from the first snapshot's size). */
  depth: number;
  /** u of the last book message sent, or -1. */
  lastU: number;
  lastPrice: number;
  lastTick: string;
}

/** Missing u's (book messages whose deltas held no level, so wrote no rows) filled with empty deltas, at most this many. */
const MAX_FILL = 10_000;

/** Subscriptions and recorded frames meet on this key: every orderbook depth above 1 is one book. */
function topicKey(topic: string): string {
  const { channel, args, symbol } = splitTopic(topic);
  if (channel === 'orderbook' && args.length === 1 && args[0] !== '1') return `orderbook.*.${symbol}`;
  return topic;
}

export class BybitSimServer implements SimExchangeServer {
  readonly category: Category;
  private readonly byKey = new Map<string, Set<Sub>>();
  private readonly conns = new Map<SimClient, Map<string, Sub>>();
  private readonly books = new Map<string, BookState>();
  private readonly synth = new Map<string, SynthState>();
  /** Trade seq and stand-in trade ids for the synthesized publicTrade frames. */
  private tradeSeq = 0;

  constructor(
    readonly exchange: 'bybit-spot' | 'bybit-linear',
    private readonly ctx: SimContext,
  ) {
    this.category = exchange === 'bybit-spot' ? 'spot' : 'linear';
  }

  acceptsWebSocket(path: string): boolean {
    return path === `/v5/public/${this.category}`;
  }

  onConnection(conn: SimClient): void {
    this.conns.set(conn, new Map());
  }

  onClose(conn: SimClient): void {
    const subs = this.conns.get(conn);
    if (!subs) return;
    for (const s of subs.values()) this.dropSub(s);
    this.conns.delete(conn);
  }

  /** Forget a subscription; a topic nobody follows leaves no entry (clients may name any number of symbols). */
  private dropSub(sub: Sub): void {
    const key = topicKey(sub.topic);
    const set = this.byKey.get(key);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.byKey.delete(key);
  }

  /** A reply in the category's shape: spot omits req_id unless given, linear always carries it. */
  private reply(conn: SimClient, success: boolean, retMsg: string, op: string, reqId: unknown): void {
    const body: Record<string, unknown> = { success, ret_msg: retMsg, conn_id: conn.connId };
    // req_id is echoed as text; a nested or huge one is quoted cut short (String() of a nested array recurses).
    const echoed = reqId === undefined ? '' : String(echoedId(reqId));
    if (this.category === 'linear') body.req_id = echoed;
    else if (reqId !== undefined) body.req_id = echoed;
    body.op = quotedText(op);
    conn.sendReply(JSON.stringify(body));
  }

  private validTopic(topic: unknown): topic is string {
    if (typeof topic !== 'string' || topic.length > MAX_TOPIC_CHARS) return false;
    const { channel, args, symbol } = splitTopic(topic);
    if (!CHANNELS.has(channel) || symbol === '' || !/^[A-Z0-9]+$/.test(symbol)) return false;
    if (channel === 'orderbook') return args.length === 1 && DEPTHS[this.category].includes(args[0]!);
    return true;
  }

  onClientMessage(conn: SimClient, text: string): void {
    const subs = this.conns.get(conn);
    if (!subs) return;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.reply(conn, false, 'error:request not json', '', undefined);
      return;
    }
    if (!isObject(msg)) {
      this.reply(conn, false, 'error:request not json object', '', undefined);
      return;
    }
    const op = typeof msg.op === 'string' ? msg.op : '';
    const reqId = msg.req_id;
    if (op === 'ping') {
      this.reply(conn, true, 'pong', 'ping', reqId);
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      this.reply(conn, false, `error:unsupported op ${shown(op)}`, op, reqId);
      return;
    }
    const args = msg.args;
    if (!Array.isArray(args) || args.length === 0) {
      this.reply(conn, false, 'error:args is empty', op, reqId);
      return;
    }
    if (this.category === 'spot' && args.length > SPOT_MAX_ARGS) {
      this.reply(conn, false, `error:args size >${SPOT_MAX_ARGS}`, op, reqId);
      return;
    }
    const bad = args.filter((a) => !this.validTopic(a));
    if (bad.length > 0) {
      this.reply(conn, false, `error:handler not found,topic:${quotedText(bad.map((a) => (typeof a === 'string' ? a : shown(a))).join(','))}`, op, reqId);
      return;
    }
    const topics = args as string[];
    if (op === 'subscribe') {
      const dup = topics.find((t) => subs.has(t));
      if (dup !== undefined) {
        this.reply(conn, false, `error:already subscribed,topic:${quotedText(dup)}`, op, reqId);
        return;
      }
      if (subs.size + new Set(topics).size > MAX_SUBSCRIPTIONS) {
        this.reply(conn, false, `error:too many topics (at most ${MAX_SUBSCRIPTIONS} per connection)`, op, reqId);
        return;
      }
      const added: Sub[] = [];
      for (const topic of new Set(topics)) {
        const isBook = splitTopic(topic).channel === 'orderbook' && splitTopic(topic).args[0] !== '1';
        const sub: Sub = { conn, topic, book: isBook, waitingSnapshot: false };
        subs.set(topic, sub);
        const key = topicKey(topic);
        let set = this.byKey.get(key);
        if (!set) this.byKey.set(key, (set = new Set()));
        set.add(sub);
        added.push(sub);
      }
      this.reply(conn, true, this.category === 'spot' ? 'subscribe' : '', op, reqId);
      for (const sub of added) if (sub.book) this.sendSnapshot(sub);
      this.ctx.clientActive();
    } else {
      for (const topic of topics) {
        const sub = subs.get(topic);
        if (!sub) continue;
        subs.delete(topic);
        this.dropSub(sub);
      }
      this.reply(conn, true, this.category === 'spot' ? 'unsubscribe' : '', op, reqId);
    }
  }

  /** The current book as a snapshot frame for `topic`, or null while it is unknown. */
  private snapshotFrame(topic: string): string | null {
    const { args, symbol } = splitTopic(topic);
    const b = this.books.get(symbol);
    const stream = this.ctx.streamIndex(this.exchange, symbol);
    if (!b || !b.text.known || (stream >= 0 && !this.ctx.books.isValid(stream))) return null;
    const n = Number(args[0]);
    const bids = b.text.bids.top(n);
    const asks = b.text.asks.top(n);
    if (n < b.recordedDepth) {
      // From now on this depth's deltas are computed from the recorded book's top n (between frames a
      // view always equals the current top n, so (re)setting it here is right for its other subscribers too).
      b.views.set(n, { n, bids: new Map(bids.map((l) => [Number(l[0]), l])), asks: new Map(asks.map((l) => [Number(l[0]), l])) });
    }
    return this.frame(JSON.stringify(topic), 'snapshot', b, levelsJson(bids), levelsJson(asks));
  }

  /** A book frame in Bybit's key order: spot puts ts before type, linear type first. */
  private frame(topicJson: string, type: 'snapshot' | 'delta', b: BookState, bidsJson: string, asksJson: string): string {
    const data = `{"s":${JSON.stringify(b.symbol)},"b":${bidsJson},"a":${asksJson},"u":${b.u}${b.seq !== null ? `,"seq":${b.seq}` : ''}}`;
    const ts = b.ts ?? this.ctx.nowMs();
    const cts = b.cts !== null ? `,"cts":${b.cts}` : '';
    return this.category === 'spot'
      ? `{"topic":${topicJson},"ts":${ts},"type":"${type}","data":${data}${cts}}`
      : `{"topic":${topicJson},"type":"${type}","ts":${ts},"data":${data}${cts}}`;
  }

  /**
   * After a recorded frame: the frame a depth-n subscriber gets (topic left as a placeholder). A delta
   * holds the levels of the top n that changed, entered (with their size) or left it (size "0"), as
   * Bybit's own orderbook.n stream does; it is sent even when empty so that u stays consecutive.
   */
  private viewFrame(b: BookState, v: DepthView, snapshot: boolean): string {
    const topic = TOPIC_PLACEHOLDER;
    const diff = (side: 'bids' | 'asks'): string => {
      const now = b.text[side].top(v.n);
      const prev = v[side];
      const next = new Map(now.map((l) => [Number(l[0]), l]));
      const out: TextLevel[] = [];
      for (const [p, l] of next) {
        const old = prev.get(p);
        if (!old || old[1] !== l[1]) out.push(l);
      }
      for (const [p, l] of prev) if (!next.has(p)) out.push([l[0]!, '0']);
      v[side] = next;
      return levelsJson(snapshot ? now : out);
    };
    const bids = diff('bids');
    const asks = diff('asks');
    return this.frame(topic, snapshot ? 'snapshot' : 'delta', b, bids, asks);
  }

  private sendSnapshot(sub: Sub): void {
    const frame = this.snapshotFrame(sub.topic);
    if (frame === null) sub.waitingSnapshot = true;
    else sub.conn.sendData(frame, true);
  }

  onFrame(frame: ReplayFrame): void {
    let msg: unknown;
    try {
      msg = JSON.parse(frame.text);
    } catch {
      return;
    }
    if (!isObject(msg) || typeof msg.topic !== 'string') return; // acks and pongs of the recording
    const topic = msg.topic;
    const key = topicKey(topic);
    const isBook = key.startsWith('orderbook.*.');
    let snapshot = false;
    if (isBook) snapshot = this.track(topic, msg);
    const subs = this.byKey.get(key);
    if (!subs || subs.size === 0) return;
    const prefix = `{"topic":${JSON.stringify(topic)}`;
    const book = isBook ? this.books.get(splitTopic(topic).symbol) : undefined;
    const viewFrames = new Map<number, string>();
    if (book && book.recordedTopic === topic) {
      for (const sub of subs) {
        const n = Number(splitTopic(sub.topic).args[0]);
        if (n < book.recordedDepth && !book.views.has(n)) book.views.set(n, { n, bids: new Map(), asks: new Map() });
      }
      for (const v of book.views.values()) viewFrames.set(v.n, this.viewFrame(book, v, snapshot));
    }
    for (const sub of subs) {
      if (sub.waitingSnapshot) {
        if (!snapshot) continue;
        sub.waitingSnapshot = false;
      }
      let out = frame.text;
      const depth = Number(splitTopic(sub.topic).args[0]);
      const view = book && depth < book.recordedDepth ? viewFrames.get(depth) : undefined;
      if (view !== undefined) {
        out = view.replace(TOPIC_PLACEHOLDER, JSON.stringify(sub.topic));
      } else if (sub.topic !== topic) {
        // Another depth of the same book: the recorded frame under the client's topic.
        out = frame.text.startsWith(prefix) ? `{"topic":${JSON.stringify(sub.topic)}${frame.text.slice(prefix.length)}` : JSON.stringify({ ...msg, topic: sub.topic });
      }
      sub.conn.sendData(out, isBook);
    }
  }

  /** Apply a recorded orderbook frame to the text book. Returns true if it reset the book (snapshot, u == 1). */
  private track(topic: string, msg: Record<string, unknown>): boolean {
    const data = msg.data;
    if (!isObject(data)) return false;
    const symbol = splitTopic(topic).symbol;
    let b = this.books.get(symbol);
    if (!b) {
      b = { text: new TextBook(), recordedDepth: Number(splitTopic(topic).args[0]), views: new Map(), symbol, recordedTopic: topic, u: -1, seq: null, ts: null, cts: null };
      this.books.set(symbol, b);
    }
    // The dataset follows one depth per symbol (the first recorded): others would mix two books.
    if (b.recordedTopic !== topic) return false;
    const u = typeof data.u === 'number' ? data.u : -1;
    const reset = msg.type === 'snapshot' || u === 1;
    if (reset) b.text.clear();
    for (const lvl of Array.isArray(data.b) ? data.b : []) b.text.bids.set(lvl);
    for (const lvl of Array.isArray(data.a) ? data.a : []) b.text.asks.set(lvl);
    if (reset) b.text.known = true;
    b.u = u;
    b.seq = typeof data.seq === 'number' ? data.seq : b.seq;
    b.ts = typeof msg.ts === 'number' ? msg.ts : b.ts;
    b.cts = typeof msg.cts === 'number' ? msg.cts : b.cts;
    return reset;
  }

  onRestart(): void {
    for (const b of this.books.values()) {
      b.text.clear();
      b.views.clear();
    }
    this.synth.clear();
  }

  // ---- frames synthesized from events ----

  private synthState(symbol: string): SynthState {
    let st = this.synth.get(symbol);
    if (!st) this.synth.set(symbol, (st = { depth: 200, lastU: -1, lastPrice: NaN, lastTick: 'ZeroPlusTick' }));
    return st;
  }

  /** A book frame in Bybit's key order (spot: ts before type). */
  private synthBookFrame(topic: string, type: 'snapshot' | 'delta', ms: number, symbol: string, b: string, a: string, u: bigint | number): string {
    const data = `{"s":${JSON.stringify(symbol)},"b":[${b}],"a":[${a}],"u":${u}}`;
    return this.category === 'spot'
      ? `{"topic":"${topic}","ts":${ms},"type":"${type}","data":${data},"cts":${ms}}`
      : `{"topic":"${topic}","type":"${type}","ts":${ms},"data":${data},"cts":${ms}}`;
  }

  onEventMessage(m: EventMessage): void {
    const symbol = this.ctx.streams[m.stream]!.symbol;
    const rows = m.rows;
    const last = rows[rows.length - 1]!;
    const ms = exchMs(last.exchTs);
    const send = (text: string) => this.onFrame({ t: m.t, exchange: this.exchange, text });
    const level = (r: EventRow) => `["${decimalText(r.price)}","${decimalText(r.size)}"]`;
    const sides = (rs: EventRow[]) => {
      const b: string[] = [];
      const a: string[] = [];
      for (const r of rs) if (Number.isFinite(r.price)) (r.side > 0 ? b : a).push(level(r));
      return [b.join(','), a.join(',')] as const;
    };
    switch (m.kind) {
      case EventKind.BookSnapshot: {
        if (!(last.flags & Flag.SnapshotEnd)) return;
        const st = this.synthState(symbol);
        if (st.lastU < 0 || !this.books.has(symbol)) {
          // Bybit's snapshot holds N levels a side: the smallest depth that fits them is the one recorded.
          const perSide = Math.max(rows.filter((r) => r.side > 0).length, rows.filter((r) => r.side < 0).length);
          const depths = DEPTHS[this.category].map(Number).filter((d) => d > 1);
          st.depth = depths.find((d) => d >= perSide) ?? depths[depths.length - 1]!;
        }
        const [b, a] = sides(rows);
        st.lastU = Number(last.id);
        send(this.synthBookFrame(`orderbook.${st.depth}.${symbol}`, 'snapshot', ms, symbol, b, a, last.id));
        return;
      }
      case EventKind.BookLevel: {
        const st = this.synthState(symbol);
        const topic = `orderbook.${st.depth}.${symbol}`;
        const u = Number(last.id);
        // Deltas that held no level wrote no rows: send them empty so that u stays consecutive.
        if (st.lastU >= 0 && u > st.lastU + 1 && u - st.lastU - 1 <= MAX_FILL) {
          for (let k = st.lastU + 1; k < u; k++) send(this.synthBookFrame(topic, 'delta', ms, symbol, '', '', k));
        }
        st.lastU = u;
        const [b, a] = sides(rows);
        send(this.synthBookFrame(topic, 'delta', ms, symbol, b, a, last.id));
        return;
      }
      case EventKind.Trade: {
        const st = this.synthState(symbol);
        const items = rows.map((r) => {
          if (!(r.price === st.lastPrice)) st.lastTick = Number.isNaN(st.lastPrice) || r.price > st.lastPrice ? 'PlusTick' : 'MinusTick';
          else st.lastTick = st.lastTick === 'PlusTick' || st.lastTick === 'ZeroPlusTick' ? 'ZeroPlusTick' : 'ZeroMinusTick';
          st.lastPrice = r.price;
          const seq = ++this.tradeSeq;
          // Linear trade ids are UUIDs the dataset does not hold (id -1): a stand-in of the same form.
          const id = r.id >= 0n ? String(r.id) : `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
          return `{"T":${exchMs(r.exchTs)},"s":${JSON.stringify(symbol)},"S":"${r.side > 0 ? 'Buy' : 'Sell'}","v":"${decimalText(r.size)}","p":"${decimalText(r.price)}","L":"${st.lastTick}","i":"${id}","BT":${(r.flags & Flag.OffBook) !== 0},"seq":${seq}}`;
        });
        const topic = JSON.stringify(`publicTrade.${symbol}`);
        send(
          this.category === 'spot'
            ? `{"topic":${topic},"ts":${ms},"type":"snapshot","data":[${items.join(',')}]}`
            : `{"topic":${topic},"type":"snapshot","ts":${ms},"data":[${items.join(',')}]}`,
        );
        return;
      }
      case EventKind.BestBidOffer: {
        const [b, a] = sides(rows);
        send(this.synthBookFrame(`orderbook.1.${symbol}`, 'snapshot', ms, symbol, b, a, last.id));
        return;
      }
      default:
        return; // gaps and disconnects: the book's next message is a snapshot
    }
  }

  /** instruments-info and time (sim-metadata.ts); time is the replay clock. */
  onMetadataRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET') return false;
    const now = this.ctx.nowMs();
    const symbols = this.ctx.streams.filter((s) => s.exchange === this.exchange).map((s) => s.symbol.toUpperCase());
    const m = bybitMetadata(this.category, path, query, symbols, now);
    if (m === null) return false;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(m.kind === 'time' ? bybitTimeBody(now) : JSON.stringify(m.body));
    return true;
  }

  onRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET' || path !== '/v5/market/orderbook') return false;
    const send = (body: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const time = this.ctx.nowMs();
    const category = query.get('category');
    const symbol = query.get('symbol') ?? '';
    if (category !== this.category) {
      send({ retCode: 10001, retMsg: `category ${JSON.stringify(category)} is not served here (this is ${this.category})`, result: {}, retExtInfo: {}, time });
      return true;
    }
    const b = this.books.get(symbol.toUpperCase());
    const stream = this.ctx.streamIndex(this.exchange, symbol);
    if (!b || !b.text.known || (stream >= 0 && !this.ctx.books.isValid(stream))) {
      send({ retCode: 10001, retMsg: 'params error: symbol invalid or its book is not known yet', result: {}, retExtInfo: {}, time });
      return true;
    }
    const limit = Math.max(1, Math.min(Number(query.get('limit') ?? (this.category === 'spot' ? 1 : 25)) || 1, this.category === 'spot' ? 200 : 500));
    send({
      retCode: 0,
      retMsg: 'OK',
      result: { s: b.symbol, b: b.text.bids.top(limit), a: b.text.asks.top(limit), ts: b.ts ?? time, u: b.u, seq: b.seq ?? 0, cts: b.cts ?? b.ts ?? time },
      retExtInfo: {},
      time,
    });
    return true;
  }

  tooManyRequestsBody(): string {
    return JSON.stringify({ retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: this.ctx.nowMs() });
  }

  errorFrame(conn: SimClient, why: string): string {
    const body: Record<string, unknown> = { success: false, ret_msg: `error:${why}`, conn_id: conn.connId };
    if (this.category === 'linear') body.req_id = '';
    body.op = '';
    return JSON.stringify(body);
  }

  restError(why: string): { status: number; body: string } {
    return { status: 200, body: JSON.stringify({ retCode: 10016, retMsg: `Internal server error: ${why}`, result: {}, retExtInfo: {}, time: this.ctx.nowMs() }) };
  }

  shutdownNotice(): string[] {
    return [];
  }
}
