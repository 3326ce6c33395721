// The exchange simulator: one HTTP server on one port that replays a dataset over the exchanges' real
// public protocols. The first path segment chooses the exchange (an id with a server side in the registry:
// /binance-usdm, /okx, ...); the rest is the exchange's own path.
// See docs/exchange-sim.md.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { BookBuilder } from '../book/book-builder.js';
import { openDataset } from '../data/reader.js';
import { NS_PER_MS } from '../data/time.js';
import { EVENT_KIND_NAMES, type ExchangeId } from '../data/types.js';
import { simAdapter, SIM_EXCHANGES } from '../exchanges/registry.js';
import { quotedText } from '../exchanges/kit/sim.js';
import { SimConnection } from './connection.js';
import { ReplayClock, scanRecordedFrames } from './replay.js';
import { channelKey, kindMask, type EventMessage, type FrameClassifier, type SynthChannel } from './synth.js';
import type { ExchangeSim, ExchangeSimOptions, ExchangeSimStats, Fault, FaultPlanEntry, SimContext, SimExchangeServer } from './types.js';

export type { ExchangeSim, ExchangeSimOptions, ExchangeSimStats, Fault, FaultPlan, FaultPlanEntry } from './types.js';

export { SIM_EXCHANGES };

/** How each served exchange's recorded frames name their symbol and channel (for the raw scan). */
const CLASSIFIERS = new Map<ExchangeId, FrameClassifier>(
  SIM_EXCHANGES.map((e) => [e as ExchangeId, simAdapter(e)!.frames.channelOfText] as const),
);

const CHANNELS: readonly SynthChannel[] = ['trade', 'book', 'bbo'];

/** Sockets holding more than this (bytes) hold back a speed-'max' replay. */
const HIGH_WATER = 1 << 20;

/**
 * The largest client WebSocket message or HTTP request body the simulator accepts by default, bytes. A
 * subscription to Binance's 1024 streams is about 30 KB; ws's own default (100 MiB) would let one client
 * make the server hold and parse 100 MiB.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
/** The most one client may leave unread by default, bytes: far above a healthy client's backlog at speed 1. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Log lines of one kind per minute by default before they are only counted. */
export const DEFAULT_MAX_LOG_LINES_PER_MINUTE = 100;

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The warning for listening beyond loopback, or null on a loopback address. */
export function exposureWarning(host: string): string | null {
  if (isLoopbackHost(host)) return null;
  return (
    `warning: listening on ${host}, beyond this machine's loopback: the simulator has no authentication, so anyone ` +
    'who can reach this address can connect, subscribe and use its memory and CPU; bind to 127.0.0.1 unless that is wanted'
  );
}

/**
 * Log lines of one kind, at most `perMinute` a minute: past that they are counted, with one line saying
 * so, and the count is logged when the next minute's first line of that kind arrives. A client that
 * floods the server with bad messages cannot flood its log.
 */
export class LogLimiter {
  private readonly kinds = new Map<string, { minute: number; lines: number; suppressed: number }>();
  suppressedTotal = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly perMinute: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  line(kind: string, text: string): void {
    const minute = Math.floor(this.nowMs() / 60_000);
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { minute, lines: 0, suppressed: 0 }));
    if (k.minute !== minute) {
      if (k.suppressed > 0) this.log(`${k.suppressed} more "${kind}" line(s) were not logged in the last minute`);
      k.minute = minute;
      k.lines = 0;
      k.suppressed = 0;
    }
    if (k.lines < this.perMinute) {
      k.lines++;
      this.log(text);
      return;
    }
    if (k.suppressed === 0) this.log(`more than ${this.perMinute} "${kind}" lines this minute: counting the rest instead of logging them`);
    k.suppressed++;
    this.suppressedTotal++;
  }
}

export function validateFault(f: Fault): void {
  switch (f.kind) {
    case 'drop':
    case 'malformed':
    case '24h-close':
      return;
    case 'skip':
    case 'rest-429':
      if (!Number.isInteger(f.count) || f.count < 1) throw new Error(`fault ${f.kind}: count must be a whole number >= 1, got ${f.count}`);
      return;
    case 'stall':
      if (!Number.isFinite(f.ms) || f.ms < 0) throw new Error(`fault stall: ms must be >= 0, got ${f.ms}`);
      return;
    default:
      throw new Error(`unknown fault kind "${(f as { kind: string }).kind}"`);
  }
}

export async function startExchangeSim(opts: ExchangeSimOptions): Promise<ExchangeSim> {
  const host = opts.host ?? '127.0.0.1';
  const speed = opts.speed ?? 1;
  if (speed !== 'max' && !(typeof speed === 'number' && Number.isFinite(speed) && speed > 0)) {
    throw new Error(`speed must be a positive number or "max", got ${String(speed)}`);
  }
  const plan: FaultPlanEntry[] = opts.faults ?? [];
  for (const e of plan) {
    if (!Number.isInteger(e.at) || e.at < 0) throw new Error(`fault plan: "at" must be a whole number >= 0, got ${e.at}`);
    validateFault(e.fault);
  }
  const restWaitMs = opts.restWaitMs ?? 10_000;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const perMinute = opts.maxLogLinesPerMinute ?? DEFAULT_MAX_LOG_LINES_PER_MINUTE;
  if (!Number.isInteger(maxPayload) || maxPayload < 1) throw new Error(`maxPayloadBytes must be a whole number >= 1, got ${maxPayload}`);
  if (!(maxBuffered >= 1)) throw new Error(`maxBufferedBytes must be >= 1, got ${maxBuffered}`);
  if (!Number.isInteger(perMinute) || perMinute < 0) throw new Error(`maxLogLinesPerMinute must be a whole number >= 0, got ${perMinute}`);
  const limiter = new LogLimiter(opts.log ?? (() => {}), perMinute);
  /** Every log line of the simulator and its server sides goes through the limiter, by its kind. */
  const logAs = (kind: string) => (line: string) => limiter.line(kind, line);
  const log = logAs('general');

  const ds = openDataset(opts.dataset);
  const books = new BookBuilder(ds.streams.length);
  // Channels with recorded frames are replayed from them; the dataset's other streams (no raw table, or
  // no frames for that symbol and channel) get frames synthesized from their events.
  const recorded = scanRecordedFrames(ds, CLASSIFIERS);
  const inDataset = new Set<ExchangeId>([...recorded.exchanges, ...ds.streams.map((s) => s.exchange)]);
  const served = [...inDataset].filter((e) => SIM_EXCHANGES.includes(e));
  for (const e of inDataset) if (!served.includes(e)) log(`${e}: in the dataset, but the simulator has no server side for it`);
  const synthKinds = new Uint16Array(ds.streams.length);
  ds.streams.forEach((st, i) => {
    if (!served.includes(st.exchange)) return;
    for (const c of CHANNELS) if (!recorded.channels.has(channelKey(st.exchange, st.symbol, c))) synthKinds[i]! |= kindMask(c);
  });
  const synthLogged = new Set<number>();
  const dispatchMessage = (m: EventMessage) => {
    const st = ds.streams[m.stream]!;
    if (!synthLogged.has(m.stream * 16 + m.kind)) {
      synthLogged.add(m.stream * 16 + m.kind);
      log(`${st.exchange} ${st.symbol}: no recorded frames for ${EVENT_KIND_NAMES[m.kind]} events: synthesizing them`);
    }
    sides.get(st.exchange)?.onEventMessage(m);
  };
  const streamIndex = new Map<string, number>();
  ds.streams.forEach((s, i) => streamIndex.set(`${s.exchange}:${s.symbol.toUpperCase()}`, i));

  const connections = new Set<SimConnection>();
  const spentOnce = new Set<FaultPlanEntry>();
  const counters = {
    connectionsTotal: 0,
    messagesSent: 0,
    bytesSent: 0,
    restRequests: 0,
    rest429: 0,
    faultsFired: 0,
    handlerErrors: 0,
    requestsRefused: 0,
    oversizeMessages: 0,
    slowClientsCut: 0,
  };
  let rest429Left = 0;
  let closing = false;

  const originMs = Number(ds.originNs / NS_PER_MS);
  const ctx: SimContext = {
    streams: ds.streams,
    books,
    streamIndex: (exchange, symbol) => streamIndex.get(`${exchange}:${symbol.toUpperCase()}`) ?? -1,
    // The replay clock; before the first frame, the dataset's origin (never the wall clock).
    nowMs: () => (clock.position === null ? originMs : originMs + Math.floor(clock.position / 1e6)),
    clientActive: () => clock.start(),
    waitFor: async (ready) => {
      const deadline = performance.now() + restWaitMs;
      while (!ready()) {
        if (closing || performance.now() >= deadline || clock.finished) return ready();
        await sleep(2);
      }
      return true;
    },
    log,
  };

  const sides = new Map<ExchangeId, SimExchangeServer>();
  for (const e of served) {
    const side = simAdapter(e)?.createServer(ctx, { binancePingMs: opts.binancePingMs });
    if (side) sides.set(e, side);
  }

  // Hosts several exchanges share (Bybit spot and linear), from the adapters: name -> its served sides.
  const sharedHosts = new Map<string, { side: SimExchangeServer; claims: (path: string, query: URLSearchParams) => boolean }[]>();
  for (const [e, side] of sides) {
    const h = simAdapter(e)?.sharedHost;
    if (!h || sides.has(h.name)) continue;
    if (!sharedHosts.has(h.name)) sharedHosts.set(h.name, []);
    sharedHosts.get(h.name)!.push({ side, claims: h.claims });
  }
  const sideFor = (prefix: string, rest: string, query: URLSearchParams): SimExchangeServer | undefined => {
    const own = sides.get(prefix);
    if (own) return own;
    const shared = sharedHosts.get(prefix);
    return shared ? (shared.find((s) => s.claims(rest, query)) ?? shared[0])!.side : undefined;
  };

  const clock = new ReplayClock(ds, books, {
    speed,
    loop: opts.loop ?? false,
    served: new Set(sides.keys()),
    dispatch: (f) => sides.get(f.exchange)?.onFrame(f),
    synthKinds,
    dispatchMessage,
    backpressured: () => {
      for (const c of connections) if (c.buffered > HIGH_WATER) return true;
      return false;
    },
    restart: () => {
      for (const s of sides.values()) s.onRestart();
    },
  });

  const fire = (conn: SimConnection | null, f: Fault, why: string) => {
    counters.faultsFired++;
    log(`fault ${JSON.stringify(f)} (${why})${conn ? ` on ${conn.exchange} connection ${conn.id}` : ''}`);
    if (f.kind === 'rest-429') rest429Left += f.count;
    else conn?.apply(f);
  };

  const hooks = {
    sent: (bytes: number, data: boolean) => {
      counters.bytesSent += bytes;
      if (data) counters.messagesSent++;
    },
    fired: (conn: SimConnection, f: Fault, why: string) => fire(conn, f, why),
    shutdownNotice: (conn: SimConnection) => sides.get(conn.exchange)?.shutdownNotice(conn) ?? [],
    overflowed: (conn: SimConnection, buffered: number) => {
      counters.slowClientsCut++;
      logAs('slow client')(`${conn.exchange}: connection ${conn.id} left ${buffered} bytes unread (limit ${maxBuffered}): disconnected`);
    },
  };

  /** A handler threw: logged (limited) and counted; the caller answers with the exchange's error. */
  const handlerFailed = (where: string, e: unknown): string => {
    counters.handlerErrors++;
    const why = quotedText(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    logAs('handler error')(`${where} failed: ${why}`);
    return why;
  };

  /** The request target split into exchange, the rest of the path and the query; null if it does not parse. */
  const splitUrl = (url: string | undefined): { exchange: string; rest: string; query: URLSearchParams } | null => {
    // Only a path is valid here: "//host/..." or "http://..." would make URL read a host (and "//%zz" throw).
    const target = url ?? '/';
    if (!target.startsWith('/') || target.startsWith('//')) return null;
    let u: URL;
    try {
      u = new URL(target, 'http://sim');
    } catch {
      return null;
    }
    const m = /^\/([^/]+)(\/.*)?$/.exec(u.pathname);
    return { exchange: m?.[1] ?? '', rest: m?.[2] ?? '/', query: u.searchParams };
  };

  const refuse = (res: http.ServerResponse, status: number, error: string) => {
    counters.requestsRefused++;
    res.writeHead(status, { 'Content-Type': 'application/json', Connection: 'close' });
    res.end(JSON.stringify({ error }));
  };

  const server = http.createServer((req, res) => {
    counters.restRequests++;
    // The REST API takes no bodies; one past maxPayload is refused and its connection closed, so nothing
    // reads (or holds) more than maxPayload bytes of it.
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = () => {
      res.once('finish', () => req.destroy());
      refuse(res, 413, `request body over ${maxPayload} bytes`);
    };
    if (declared > maxPayload) {
      tooLarge();
      return;
    }
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (bodyBytes <= maxPayload) return;
      if (!res.headersSent) tooLarge();
      else req.destroy();
    });
    req.on('error', () => {});
    const target = splitUrl(req.url);
    if (!target) {
      refuse(res, 400, `request target ${JSON.stringify(quotedText(req.url ?? ''))} is not a path`);
      return;
    }
    const { exchange, rest, query } = target;
    const side = sideFor(exchange, rest, query);
    if (!side) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `no exchange ${JSON.stringify(quotedText(exchange))} here; served: ${[...sides.keys(), ...sharedHosts.keys()].join(', ')}` }));
      return;
    }
    if (rest429Left > 0) {
      rest429Left--;
      counters.rest429++;
      res.writeHead(429, { 'Content-Type': 'application/json;charset=UTF-8', 'Retry-After': '1' });
      res.end(side.tooManyRequestsBody());
      return;
    }
    let handled: boolean;
    try {
      // Market metadata does not start the replay clock (ccxt loads markets before it subscribes).
      handled = side.onMetadataRest?.(req, res, rest, query) ?? false;
      if (!handled) {
        ctx.clientActive();
        handled = side.onRest(req, res, rest, query);
      }
    } catch (e) {
      const why = handlerFailed(`${exchange} REST ${quotedText(rest)}`, e);
      if (!res.headersSent) {
        const { status, body } = side.restError(why);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(body);
      } else res.destroy();
      return;
    }
    if (!handled) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `${exchange} has no REST path ${quotedText(rest)} in the simulator` }));
    }
  });
  // A request Node cannot parse (bad request line, headers over maxHeaderSize): 400 and close, as Node's
  // default does, without the 'clientError' default's risk of writing to a socket that is gone.
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    if (err.code !== 'ECONNRESET') counters.requestsRefused++;
    const body = '{"error":"the request could not be parsed as HTTP/1.1"}';
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload });
  server.on('upgrade', (req, socket, head) => {
    const target = splitUrl(req.url);
    const side = target ? sideFor(target.exchange, target.rest, target.query) : undefined;
    if (!target || !side || !side.acceptsWebSocket(target.rest) || closing) {
      if (!target) counters.requestsRefused++;
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 ${target ? '404 Not Found' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const { rest, query } = target;
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const conn = new SimConnection(ws, side.exchange, rest, plan, spentOnce, hooks, maxBuffered);
      connections.add(conn);
      counters.connectionsTotal++;
      logAs('connection')(`${side.exchange}: connection ${conn.id} on ${quotedText(rest)}`);
      ws.on('message', (data, isBinary) => {
        if (conn.closed) return;
        const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
        try {
          side.onClientMessage(conn, text);
        } catch (e) {
          // One client's message never takes the server down: that client gets the exchange's error.
          const why = handlerFailed(`${side.exchange} connection ${conn.id} message`, e);
          try {
            conn.sendReply(side.errorFrame(conn, why));
          } catch {
            conn.apply({ kind: 'drop' });
          }
        }
      });
      ws.on('close', () => {
        connections.delete(conn);
        try {
          side.onClose(conn);
        } catch (e) {
          handlerFailed(`${side.exchange} connection ${conn.id} close`, e);
        }
      });
      ws.on('error', (e: Error & { code?: string }) => {
        // ws closes the connection itself (1009 for a message over maxPayload, 1002 for a protocol error).
        if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          counters.oversizeMessages++;
          logAs('oversize message')(`${side.exchange}: connection ${conn.id} sent a message over ${maxPayload} bytes: closed (1009)`);
        }
      });
      try {
        side.onConnection(conn, rest, query);
        conn.opened();
      } catch (e) {
        handlerFailed(`${side.exchange} connection ${conn.id} open`, e);
        conn.apply({ kind: 'drop' });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  if ((opts.start ?? 'first-client') === 'listen') clock.start();

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  void clock.ended.then(async () => {
    // Fully sent: every socket has drained (and no stall holds frames back).
    while (!closing) {
      let pending = false;
      for (const c of connections) if (c.buffered > 0) pending = true;
      if (!pending) break;
      await sleep(5);
    }
    resolveDone();
  });

  const close = async () => {
    if (closing) return;
    closing = true;
    clock.stop();
    for (const c of connections) {
      c.closed = true;
      c.ws.terminate();
    }
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
    resolveDone();
  };

  const stats = (): ExchangeSimStats => ({
    connections: connections.size,
    ...counters,
    logLinesSuppressed: limiter.suppressedTotal,
    framesReplayed: clock.framesReplayed,
    positionNs: clock.position === null ? null : (ds.originNs + BigInt(Math.round(clock.position))).toString(),
    passes: clock.passes,
    finished: clock.finished,
  });

  return {
    port,
    exchanges: [...sides.keys()],
    baseUrl: (exchange) => `ws://${urlHost}:${port}/${exchange}`,
    restUrl: (exchange) => `http://${urlHost}:${port}/${exchange}`,
    stats,
    fault: (f) => {
      validateFault(f);
      if (f.kind === 'rest-429') fire(null, f, 'injected');
      else for (const c of [...connections]) fire(c, f, 'injected');
    },
    done,
    close,
  };
}
