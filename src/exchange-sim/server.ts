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
  const log = opts.log ?? (() => {});

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
  const counters = { connectionsTotal: 0, messagesSent: 0, bytesSent: 0, restRequests: 0, rest429: 0, faultsFired: 0 };
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
  };

  const splitUrl = (url: string | undefined): { exchange: string; rest: string; query: URLSearchParams } => {
    const u = new URL(url ?? '/', 'http://sim');
    const m = /^\/([^/]+)(\/.*)?$/.exec(u.pathname);
    return { exchange: m?.[1] ?? '', rest: m?.[2] ?? '/', query: u.searchParams };
  };

  const server = http.createServer((req, res) => {
    counters.restRequests++;
    const { exchange, rest, query } = splitUrl(req.url);
    const side = sideFor(exchange, rest, query);
    if (!side) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `no exchange "${exchange}" here; served: ${[...sides.keys(), ...sharedHosts.keys()].join(', ')}` }));
      return;
    }
    if (rest429Left > 0) {
      rest429Left--;
      counters.rest429++;
      res.writeHead(429, { 'Content-Type': 'application/json;charset=UTF-8', 'Retry-After': '1' });
      res.end(side.tooManyRequestsBody());
      return;
    }
    if (side.onMetadataRest?.(req, res, rest, query)) return;
    ctx.clientActive();
    if (!side.onRest(req, res, rest, query)) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `${exchange} has no REST path ${rest} in the simulator` }));
    }
  });

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const { exchange, rest, query } = splitUrl(req.url);
    const side = sideFor(exchange, rest, query);
    if (!side || !side.acceptsWebSocket(rest) || closing) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const conn = new SimConnection(ws, side.exchange, rest, plan, spentOnce, hooks);
      connections.add(conn);
      counters.connectionsTotal++;
      log(`${side.exchange}: connection ${conn.id} on ${rest}`);
      ws.on('message', (data, isBinary) => {
        if (conn.closed) return;
        side.onClientMessage(conn, isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
      });
      ws.on('close', () => {
        connections.delete(conn);
        side.onClose(conn);
      });
      ws.on('error', () => {});
      side.onConnection(conn, rest, query);
      conn.opened();
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
