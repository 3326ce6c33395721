// The exchange simulator's Binance side (spot, USD-M, COIN-M): market streams over WebSocket and the REST
// depth snapshot, as Binance serves them (docs/exchange-sim.md, shared exchange-protocols.md B1/B2).
//
// WebSocket: /ws[/<stream>[/<stream>...]] sends raw payloads, /stream?streams=a/b wraps each event as
// {"stream":"<name>","data":<payload>}; futures also answer on /public/... and /market/.... Clients manage
// streams with SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY. The server pings
// (20 s spot, 3 min futures); three unanswered pings in a row end the connection.
// Recorded frames go out byte for byte when the client's stream name is the recorded one; any depth speed
// (@depth, @depth@100ms, @depth@0ms, ...) is served by the recorded diff stream of that symbol.
//
// A dataset without recorded frames for a stream (no raw table, or none for that symbol and channel) gets
// them generated from its events: one depthUpdate per book message (U/u/pu from prev_id/id), one trade per
// trade row, one bookTicker per BBO pair, under the stream names the recorder subscribes to.
//
// REST GET /api/v3/depth (USD-M /fapi/v1/depth, COIN-M /dapi/v1/depth): the book rebuilt from the
// dataset's events at the replay position, lastUpdateId = the `u` of the last diff already played, so a
// client following Binance's sync rules bridges it with the next diff.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { echoedId, quotedText, type ReplayFrame, type SimClient, type SimContext, type SimExchangeServer } from '../kit/sim.js';
import { shown } from '../kit/json.js';
import { decimalText, exchMs, type EventMessage } from '../kit/sim-frames.js';
import { binanceStreamKey, binanceStreamOfPayload } from './frames.js';
import { EventKind, Flag } from '../../data/types.js';
import type { BinanceExchange } from './markets.js';
import { binanceExchangeInfo, binanceMetadataRequest } from './sim-metadata.js';

interface Sub {
  conn: SimClient;
  /** The name as the client wrote it (sent back in the combined wrapper and LIST_SUBSCRIPTIONS). */
  name: string;
}

interface ConnState {
  combined: boolean;
  /** Lower-cased name → subscription, in subscription order. */
  subs: Map<string, Sub>;
  pingTimer: NodeJS.Timeout | null;
  unansweredPings: number;
}

interface DepthState {
  /** `u` of the last diff played, or -1. */
  lastU: number;
  lastE: number;
  lastT: number;
  priceDecimals: number;
  sizeDecimals: number;
  /** Depth frames read for their number formats (the first few are enough: Binance pads to fixed decimals). */
  formatSamples: number;
}

/** Depth state of a stream synthesized from events: its levels are written as the shortest text, so is REST. */
const SYNTH_FORMAT = Number.MAX_SAFE_INTEGER;

const STREAM_NAME = /^(?:[a-z0-9_]+@[A-Za-z0-9_@.]+|![A-Za-z0-9_@]+)$/i;
/** Binance stream names are short ("btcusdt@depth@100ms"); longer ones are refused, so LIST_SUBSCRIPTIONS stays small. */
const MAX_STREAM_NAME_CHARS = 128;
const validStreamName = (n: unknown): n is string => typeof n === 'string' && n.length <= MAX_STREAM_NAME_CHARS && STREAM_NAME.test(n);
const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];
const MAX_STREAMS = 1024;

function decimals(text: unknown): number {
  if (typeof text !== 'string') return -1;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function intField(text: string, field: string): number {
  const m = new RegExp(`"${field}":(\\d+)`).exec(text);
  return m ? Number(m[1]) : -1;
}

export class BinanceSimServer implements SimExchangeServer {
  private readonly futures: boolean;
  private readonly pingMs: number;
  private readonly byKey = new Map<string, Set<Sub>>();
  private readonly conns = new Map<SimClient, ConnState>();
  private readonly depth = new Map<string, DepthState>();
  private weightMinute = 0;
  private weightUsed = 0;

  constructor(
    readonly exchange: BinanceExchange,
    private readonly ctx: SimContext,
    opts: { pingMs?: number } = {},
  ) {
    this.futures = exchange !== 'binance-spot';
    this.pingMs = opts.pingMs ?? (this.futures ? 180_000 : 20_000);
  }

  // ---- WebSocket ----

  acceptsWebSocket(path: string): boolean {
    const p = this.futures ? path.replace(/^\/(public|market)(?=\/)/, '') : path;
    return p === '/ws' || p.startsWith('/ws/') || p === '/stream';
  }

  onConnection(conn: SimClient, path: string, query: URLSearchParams): void {
    const p = this.futures ? path.replace(/^\/(public|market)(?=\/)/, '') : path;
    const st: ConnState = { combined: p === '/stream', subs: new Map(), pingTimer: null, unansweredPings: 0 };
    this.conns.set(conn, st);
    const names = p === '/stream' ? (query.get('streams') ?? '').split('/') : p.slice(4).split('/');
    // Binance accepts any /ws/<anything> (a listen key, or a client's own tag: ccxt opens /ws/0, /ws/1 and
    // then SUBSCRIBEs); only segments that are stream names subscribe.
    const initial = names.filter((n) => n.length > 0 && (p === '/stream' || validStreamName(n)));
    const bad = initial.find((n) => !validStreamName(n));
    if (bad !== undefined || initial.length > MAX_STREAMS) {
      // Binance refuses the handshake for an invalid stream list; the closest a WebSocket can do here.
      const why = bad !== undefined ? `invalid stream name ${shown(bad)}` : `too many streams (at most ${MAX_STREAMS} per connection)`;
      conn.sendReply(JSON.stringify({ code: 2, msg: `Invalid request: ${why}` }));
      conn.ws.close(1008, 'invalid stream');
      return;
    }
    for (const n of initial) this.subscribe(conn, st, n);
    if (initial.length > 0) this.ctx.clientActive();
    conn.ws.on('pong', () => (st.unansweredPings = 0));
    st.pingTimer = setInterval(() => {
      if (conn.closed) return;
      if (st.unansweredPings >= 3) {
        this.ctx.log(`${this.exchange}: connection ${conn.id} answered no ping in ${3 * this.pingMs} ms: closed`);
        conn.apply({ kind: 'drop' });
        return;
      }
      if (conn.stalled) return;
      st.unansweredPings++;
      conn.ws.ping(Buffer.from(String(this.ctx.nowMs())));
    }, this.pingMs);
  }

  onClose(conn: SimClient): void {
    const st = this.conns.get(conn);
    if (!st) return;
    if (st.pingTimer) clearInterval(st.pingTimer);
    for (const sub of st.subs.values()) this.dropSub(binanceStreamKey(sub.name), sub);
    this.conns.delete(conn);
  }

  private subscribe(conn: SimClient, st: ConnState, name: string): void {
    const lower = name.toLowerCase();
    if (st.subs.has(lower)) return;
    const sub: Sub = { conn, name };
    st.subs.set(lower, sub);
    const key = binanceStreamKey(name);
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(sub);
  }

  private unsubscribe(st: ConnState, name: string): void {
    const lower = name.toLowerCase();
    const sub = st.subs.get(lower);
    if (!sub) return;
    st.subs.delete(lower);
    this.dropSub(binanceStreamKey(name), sub);
  }

  /** Forget a subscription; a stream nobody follows leaves no entry (clients may name any number of streams). */
  private dropSub(key: string, sub: Sub): void {
    const set = this.byKey.get(key);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.byKey.delete(key);
  }

  onClientMessage(conn: SimClient, text: string): void {
    const st = this.conns.get(conn);
    if (!st) return;
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch (e) {
      conn.sendReply(JSON.stringify({ code: 3, msg: `Invalid JSON: ${quotedText((e as Error).message)}` }));
      return;
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      conn.sendReply(JSON.stringify({ code: 2, msg: 'Invalid request: request must be a JSON object' }));
      return;
    }
    const r = req as Record<string, unknown>;
    const validId = r.id === undefined || r.id === null || (typeof r.id === 'number' && Number.isSafeInteger(r.id) && r.id >= 0) || typeof r.id === 'string';
    // An id that is not valid is not echoed whole (a nested one would overflow JSON.stringify's stack).
    const id = !validId || r.id === undefined ? undefined : r.id === null ? null : echoedId(r.id);
    const reply = (body: Record<string, unknown>) => conn.sendReply(JSON.stringify({ ...body, id: id ?? null }));
    const error = (code: number, msg: string) => conn.sendReply(JSON.stringify(id === undefined ? { code, msg } : { code, msg, id }));
    if (!validId) {
      error(2, `Invalid request: request ID must be an unsigned integer, got ${shown(r.id)}`);
      return;
    }
    if (typeof r.method !== 'string') {
      error(2, 'Invalid request: missing field `method`');
      return;
    }
    if (!METHODS.includes(r.method)) {
      error(2, `Invalid request: unknown variant \`${quotedText(r.method)}\`, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')}`);
      return;
    }
    const params = r.params ?? [];
    if (!Array.isArray(params)) {
      error(2, 'Invalid request: `params` must be an array');
      return;
    }
    switch (r.method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        const bad = params.find((p) => !validStreamName(p));
        if (bad !== undefined) {
          error(2, `Invalid request: invalid stream name ${shown(bad)}`);
          return;
        }
        if (r.method === 'SUBSCRIBE') {
          if (st.subs.size + params.length > MAX_STREAMS) {
            error(2, `Invalid request: too many streams (at most ${MAX_STREAMS} per connection)`);
            return;
          }
          for (const p of params as string[]) this.subscribe(conn, st, p);
        } else {
          for (const p of params as string[]) this.unsubscribe(st, p);
        }
        reply({ result: null });
        if (r.method === 'SUBSCRIBE' && params.length > 0) this.ctx.clientActive();
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        reply({ result: [...st.subs.values()].map((s) => s.name) });
        return;
      case 'SET_PROPERTY':
        if (params.length !== 2 || params[0] !== 'combined') {
          error(0, 'Unknown property');
          return;
        }
        if (typeof params[1] !== 'boolean') {
          error(1, 'Invalid value type: expected Boolean');
          return;
        }
        st.combined = params[1];
        reply({ result: null });
        return;
      case 'GET_PROPERTY':
        if (params.length !== 1 || params[0] !== 'combined') {
          error(0, 'Unknown property');
          return;
        }
        reply({ result: st.combined });
        return;
    }
  }

  // ---- the replay ----

  onFrame(frame: ReplayFrame): void {
    const text = frame.text;
    let name: string;
    let dataText: string;
    let wrapped = false;
    const W = '{"stream":"';
    if (text.startsWith(W)) {
      const end = text.indexOf('"', W.length);
      const D = ',"data":';
      if (end < 0 || !text.startsWith(D, end + 1) || !text.endsWith('}')) return this.onFrameParsed(text);
      name = text.slice(W.length, end);
      dataText = text.slice(end + 1 + D.length, -1);
      wrapped = true;
    } else {
      return this.onFrameParsed(text);
    }
    this.play(name, dataText, wrapped ? text : null);
  }

  /** A frame that is not in the usual wrapper layout: read it as JSON. */
  private onFrameParsed(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return; // a malformed recorded frame: nothing to route it by
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    if (typeof m.stream === 'string' && m.data !== undefined) {
      this.play(m.stream, JSON.stringify(m.data), null);
      return;
    }
    const name = binanceStreamOfPayload(m);
    if (name !== null) this.play(name, text, null);
  }

  private play(name: string, dataText: string, wrappedText: string | null): void {
    const key = binanceStreamKey(name);
    const isDepth = key.endsWith('@depth');
    if (isDepth) this.trackDepth(key.slice(0, -6).toUpperCase(), dataText);
    this.deliver(key, name, dataText, wrappedText, isDepth);
  }

  /** Send a payload of stream `name` (key `key`) to its subscribers, each under the name it used. */
  private deliver(key: string, name: string, dataText: string, wrappedText: string | null, isDepth: boolean): void {
    const subs = this.byKey.get(key);
    if (!subs || subs.size === 0) return;
    let rewrapped: string | null = null;
    for (const sub of subs) {
      const st = this.conns.get(sub.conn);
      if (!st) continue;
      let out: string;
      if (!st.combined) out = dataText;
      else if (wrappedText !== null && sub.name === name) out = wrappedText;
      else if (sub.name === name) out = rewrapped ??= `{"stream":${JSON.stringify(name)},"data":${dataText}}`;
      else out = `{"stream":${JSON.stringify(sub.name)},"data":${dataText}}`;
      sub.conn.sendData(out, isDepth);
    }
  }

  private depthState(symbol: string): DepthState {
    let d = this.depth.get(symbol);
    if (!d) {
      d = { lastU: -1, lastE: -1, lastT: -1, priceDecimals: -1, sizeDecimals: -1, formatSamples: 0 };
      this.depth.set(symbol, d);
    }
    return d;
  }

  private trackDepth(symbol: string, dataText: string): void {
    const d = this.depthState(symbol);
    const u = intField(dataText, 'u');
    if (u < 0) return; // a partial-depth payload ({"lastUpdateId",...}) is not a diff
    d.lastU = u;
    d.lastE = intField(dataText, 'E');
    d.lastT = intField(dataText, 'T');
    if (d.formatSamples < 20) {
      d.formatSamples++;
      try {
        const p = JSON.parse(dataText) as { b?: unknown[]; a?: unknown[] };
        for (const lvl of [...(p.b ?? []), ...(p.a ?? [])]) {
          if (!Array.isArray(lvl)) continue;
          d.priceDecimals = Math.max(d.priceDecimals, decimals(lvl[0]));
          d.sizeDecimals = Math.max(d.sizeDecimals, decimals(lvl[1]));
        }
      } catch {
        /* unreadable: learn from the next one */
      }
    }
  }

  onRestart(): void {
    this.depth.clear();
  }

  // ---- frames synthesized from events ----

  onEventMessage(m: EventMessage): void {
    const symbol = this.ctx.streams[m.stream]!.symbol;
    const sym = symbol.toLowerCase();
    const s = JSON.stringify(symbol);
    const rows = m.rows;
    switch (m.kind) {
      case EventKind.BookLevel: {
        const last = rows[rows.length - 1]!;
        const u = last.id;
        const prev = last.prevId;
        const t = exchMs(last.exchTs);
        const d = this.depthState(symbol.toUpperCase());
        d.formatSamples = SYNTH_FORMAT;
        d.lastU = Number(u);
        d.lastE = d.lastT = t;
        const name = `${sym}@${this.futures ? 'depth@0ms' : 'depth@100ms'}`;
        if (!this.byKey.get(`${sym}@depth`)?.size) return;
        const b: string[] = [];
        const a: string[] = [];
        for (const r of rows) (r.side > 0 ? b : a).push(`["${decimalText(r.price)}","${decimalText(r.size)}"]`);
        const ids = this.futures ? `"U":${prev + 1n},"u":${u},"pu":${prev}` : `"U":${prev + 1n},"u":${u}`;
        const times = this.futures ? `"E":${t},"T":${t}` : `"E":${t}`;
        const data = `{"e":"depthUpdate",${times},"s":${s},${ids},"b":[${b.join(',')}],"a":[${a.join(',')}]}`;
        this.deliver(`${sym}@depth`, name, data, `{"stream":"${name}","data":${data}}`, true);
        return;
      }
      case EventKind.BookSnapshot: {
        // Snapshots feed the REST book only; from here a REST snapshot answers with this one's id, and the
        // next diff (prev_id = this id) bridges it.
        const last = rows[rows.length - 1]!;
        if (!(last.flags & Flag.SnapshotEnd)) return;
        const d = this.depthState(symbol.toUpperCase());
        d.formatSamples = SYNTH_FORMAT;
        d.lastU = Number(last.id);
        d.lastE = d.lastT = exchMs(last.exchTs);
        return;
      }
      case EventKind.Trade:
        if (!this.byKey.get(`${sym}@trade`)?.size) return;
        for (const r of rows) {
          const t = exchMs(r.exchTs);
          const px = decimalText(r.price);
          const q = decimalText(r.size);
          const maker = r.side < 0;
          const data = this.futures
            ? `{"e":"trade","E":${t},"T":${t},"s":${s},"t":${r.id},"p":"${px}","q":"${q}","X":"${r.flags & Flag.OffBook ? 'NA' : 'MARKET'}","m":${maker}}`
            : `{"e":"trade","E":${t},"s":${s},"t":${r.id},"p":"${px}","q":"${q}","T":${t},"m":${maker},"M":true}`;
          this.playSynth(`${sym}@trade`, data);
        }
        return;
      case EventKind.BestBidOffer: {
        if (!this.byKey.get(`${sym}@bookticker`)?.size) return;
        const bid = rows.find((r) => r.side > 0);
        const ask = rows.find((r) => r.side < 0);
        const last = rows[rows.length - 1]!;
        const px = (r: typeof bid) => (r && Number.isFinite(r.price) ? decimalText(r.price) : '0');
        const qty = (r: typeof bid) => (r && Number.isFinite(r.price) ? decimalText(r.size) : '0');
        const body = `"u":${last.id},"s":${s},"b":"${px(bid)}","B":"${qty(bid)}","a":"${px(ask)}","A":"${qty(ask)}"`;
        const t = exchMs(last.exchTs);
        const data = this.futures
          ? `{"e":"bookTicker",${body},"T":${t},"E":${t}}`
          : last.flags & Flag.NoExchangeTime
            ? `{${body}}`
            : `{${body},"E":${t}}`;
        this.playSynth(`${sym}@bookTicker`, data);
        return;
      }
      default:
        return; // gaps and disconnects: the next diff's U/pu shows the break
    }
  }

  private playSynth(name: string, data: string): void {
    this.deliver(binanceStreamKey(name), name, data, `{"stream":"${name}","data":${data}}`, false);
  }

  // ---- REST ----

  private get apiPrefix(): string {
    return this.exchange === 'binance-spot' ? '/api/v3' : this.exchange === 'binance-usdm' ? '/fapi/v1' : '/dapi/v1';
  }

  /** ping, time and exchangeInfo (sim-metadata.ts); server time is the replay clock. */
  onMetadataRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET') return false;
    const m = binanceMetadataRequest(this.exchange, path, query);
    if (m === null) return false;
    if ('error' in m) this.json(res, 400, JSON.stringify({ code: -1100, msg: m.error }), 1);
    else if (m.kind === 'ping') this.json(res, 200, '{}', 1);
    else if (m.kind === 'time') this.json(res, 200, JSON.stringify({ serverTime: this.ctx.nowMs() }), 1);
    else {
      const symbols = this.ctx.streams.filter((s) => s.exchange === this.exchange).map((s) => s.symbol.toUpperCase());
      const r = binanceExchangeInfo(this.exchange, symbols, m.symbols, this.ctx.nowMs());
      this.json(res, r.status, r.body, this.futures ? 1 : 20);
    }
    return true;
  }

  onRest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    const prefix = this.apiPrefix;
    if (req.method !== 'GET') return false;
    if (path !== `${prefix}/depth`) return false;
    this.depthSnapshot(res, query).catch((e: unknown) => {
      // The request waited for the book; the shared server's catch no longer covers it.
      this.ctx.log(`${this.exchange}: REST depth failed: ${quotedText(String((e as Error)?.message ?? e))}`);
      const { status, body } = this.restError('depth snapshot failed');
      if (!res.headersSent) this.json(res, status, body, 1);
      else res.destroy();
    });
    return true;
  }

  private json(res: ServerResponse, status: number, body: string, weight: number): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.weightUsed = 0;
    }
    this.weightUsed += weight;
    res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', 'x-mbx-used-weight-1m': String(this.weightUsed), 'x-mbx-used-weight': String(this.weightUsed) });
    res.end(body);
  }

  private async depthSnapshot(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const symbol = query.get('symbol');
    if (!symbol) {
      this.json(res, 400, JSON.stringify({ code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." }), 1);
      return;
    }
    const stream = this.ctx.streamIndex(this.exchange, symbol);
    if (stream < 0) {
      this.json(res, 400, JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }), 1);
      return;
    }
    const maxLimit = this.futures ? 1000 : 5000;
    const limitText = query.get('limit');
    let limit = this.futures ? 500 : 100;
    if (limitText !== null) {
      limit = Number(limitText);
      if (!Number.isInteger(limit) || limit < 1) {
        this.json(res, 400, JSON.stringify({ code: -1100, msg: "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'." }), 1);
        return;
      }
      limit = Math.min(limit, maxLimit);
    }
    const weight = this.futures ? (limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20) : limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    this.ctx.clientActive();
    const sym = this.ctx.streams[stream]!.symbol.toUpperCase();
    // The book is known once the dataset's snapshot (and the diffs buffered for it) has been applied.
    const ready = () => this.ctx.books.isValid(stream) && (this.depth.get(sym)?.lastU ?? -1) >= 0;
    if (!(await this.ctx.waitFor(ready))) {
      this.json(res, 503, JSON.stringify({ code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' }), weight);
      return;
    }
    const d = this.depth.get(sym)!;
    const book = this.ctx.books.book(stream);
    const fmt = (x: number, dec: number) => (dec >= 0 ? x.toFixed(dec) : decimalText(x));
    const side = (levels: [number, number][]) => levels.map(([p, q]) => `["${fmt(p, d.priceDecimals)}","${fmt(q, d.sizeDecimals)}"]`).join(',');
    const head = this.futures ? `{"lastUpdateId":${d.lastU},"E":${d.lastE},"T":${d.lastT},` : `{"lastUpdateId":${d.lastU},`;
    const body = `${head}"bids":[${side(book.bids.levels(limit))}],"asks":[${side(book.asks.levels(limit))}]}`;
    this.json(res, 200, body, weight);
  }

  tooManyRequestsBody(): string {
    const limit = this.futures ? 2400 : 6000;
    return JSON.stringify({ code: -1003, msg: `Too many requests; current limit of IP(127.0.0.1) request weight per minute is ${limit}. Please use WebSocket Streams for live updates to avoid bans.` });
  }

  errorFrame(_conn: SimClient, why: string): string {
    return JSON.stringify({ code: 2, msg: `Invalid request: ${why}` });
  }

  restError(why: string): { status: number; body: string } {
    return { status: 500, body: JSON.stringify({ code: -1000, msg: `An unknown error occurred while processing the request: ${why}` }) };
  }

  shutdownNotice(conn: SimClient): string[] {
    const st = this.conns.get(conn);
    const data = `{"e":"serverShutdown","E":${this.ctx.nowMs()}}`;
    return [st?.combined ? `{"stream":"!serverShutdown","data":${data}}` : data];
  }
}
