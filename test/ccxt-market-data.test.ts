// A real client, unmodified: ccxt (pinned in package.json) against the exchange simulator on loopback, with
// only its URLs pointed at the simulator. loadMarkets() on Binance spot, USD-M, Bybit and OKX from the
// simulator's metadata; watchOrderBook books equal `dataset book` at the same exchange time; watchTrades
// trades are the dataset's. Every other URL ccxt knows is replaced by a closed loopback port, so a request to
// anything not mapped fails the test instead of reaching the internet.
import fs from 'node:fs';
import path from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startExchangeSim, type ExchangeSim } from '../src/exchange-sim/server.js';
import { openDataset } from '../src/data/reader.js';
import { EventKind, Flag } from '../src/data/types.js';
import { bookAt } from '../src/inspection/book-at.js';
import { runImport } from '../src/cli/import-command.js';
import { CRYPTOFEED, tempDir, withCaptures } from './helpers.js';
import { binanceExchangeInfo } from '../src/exchanges/binance/sim-metadata.js';
import { bybitMetadata } from '../src/exchanges/bybit/sim-metadata.js';
import { okxMetadata } from '../src/exchanges/okx/sim-metadata.js';

const BINANCE_DATASET = path.resolve(__dirname, '../datasets/binance-2024-08-08');
/** Nothing listens here: a URL ccxt was not given points at it. */
const NOWHERE = 'http://127.0.0.1:9/not-mapped';

const sims: ExchangeSim[] = [];
const clients: { close(): Promise<unknown> }[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await Promise.all(sims.map((s) => s.close()));
});

/** Every URL string below `urls.api` replaced by NOWHERE, then `mapped` (same nesting) laid over it. */
function onlyThese(api: unknown, mapped: Record<string, unknown>): unknown {
  const blank = (v: unknown): unknown =>
    typeof v === 'string' ? NOWHERE : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blank(x)])) : v;
  const over = (base: unknown, top: Record<string, unknown>): unknown => {
    const out = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(top)) out[k] = v && typeof v === 'object' ? over(out[k] ?? {}, v as Record<string, unknown>) : v;
    return out;
  };
  return over(blank(api), mapped);
}

/** A ccxt pro client whose only reachable URLs are `api` (merged over NOWHERE). */
async function client(id: 'binance' | 'binanceusdm' | 'bybit' | 'okx', api: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<any> {
  const Cls = (ccxt.pro as any)[id];
  const ex = new Cls({ options });
  ex.urls.api = onlyThese(ex.urls.api, api);
  // ccxt refuses ws:// URLs until it has a plain-HTTP agent for them.
  await ex.loadHttpProxyAgent();
  clients.push(ex);
  return ex;
}

interface BookTimes {
  /** Book messages (rows up to MessageEnd) per exchange-time millisecond. */
  perExchMs: Map<number, number>;
  /** Publish-time millisecond (Bybit `ts`; the exchange time elsewhere) -> exchange-time ms of those messages. */
  byPublishMs: Map<number, number[]>;
}

interface TradeRow {
  ms: number;
  price: number;
  size: number;
  side: number;
}

/** The dataset's book message times and trades of one stream. */
function streamFacts(dir: string, exchange: string, symbol: string): { book: BookTimes; trades: TradeRow[] } {
  const ds = openDataset(dir);
  const s = ds.findStream(exchange, symbol);
  const perExchMs = new Map<number, number>();
  const byPublishMs = new Map<number, number[]>();
  const trades: TradeRow[] = [];
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      if (b.stream[i] !== s) continue;
      const k = b.kind[i]!;
      const ms = Number(b.exchTs[i]! / 1_000_000n);
      if ((k === EventKind.BookLevel || k === EventKind.BookSnapshot) && b.flags[i]! & Flag.MessageEnd) {
        perExchMs.set(ms, (perExchMs.get(ms) ?? 0) + 1);
        const pub = Number(b.publishTs[i]! / 1_000_000n);
        byPublishMs.set(pub, [...(byPublishMs.get(pub) ?? []), ms]);
      }
      if (k === EventKind.Trade) trades.push({ ms, price: b.price[i]!, size: b.size[i]!, side: b.side[i]! });
    }
  });
  return { book: { perExchMs, byPublishMs }, trades };
}

const DEPTH = 20;

/**
 * Watches `symbol`'s book until ccxt holds one whose timestamp names exactly one dataset book message, alone in
 * its exchange millisecond (so "the book at that time" is one state), after `skip` updates; returns both
 * books (top DEPTH). `clock`: which of the message's times ccxt reports (Bybit: the publish time `ts`; the
 * dataset's exchange time is the matching-engine time `cts`).
 */
async function bookAgainstDataset(ex: any, unified: string, dir: string, exchange: string, symbol: string, facts: BookTimes, skip: number, clock: 'exch' | 'publish' = 'exch') {
  for (let n = 0; n < 2000; n++) {
    const ob = await ex.watchOrderBook(unified);
    if (n < skip || typeof ob.timestamp !== 'number') continue;
    const exchMs = clock === 'exch' ? [ob.timestamp] : (facts.byPublishMs.get(ob.timestamp) ?? []);
    if (exchMs.length !== 1 || facts.perExchMs.get(exchMs[0]!) !== 1) continue;
    const ours = { bids: ob.bids.slice(0, DEPTH).map(([p, q]: number[]) => ({ price: p, size: q })), asks: ob.asks.slice(0, DEPTH).map(([p, q]: number[]) => ({ price: p, size: q })) };
    const theirs = bookAt(dir, exchange, symbol, BigInt(exchMs[0]!) * 1_000_000n + 999_999n, DEPTH);
    return { at: exchMs[0]!, updates: n + 1, nonce: ob.nonce, ccxt: ours, dataset: theirs };
  }
  throw new Error(`no ccxt book of ${unified} at a millisecond with a single dataset book message`);
}

/** Collects at least `n` trades from watchTrades and finds them, in order, among the dataset's. */
async function tradesAgainstDataset(ex: any, unified: string, trades: TradeRow[], n: number) {
  const got: { ms: number; price: number; size: number; side: string }[] = [];
  while (got.length < n) {
    const batch = await ex.watchTrades(unified);
    for (const t of batch) got.push({ ms: t.timestamp, price: t.price, size: t.amount, side: t.side });
  }
  const first = trades.findIndex((r) => r.ms === got[0]!.ms && r.price === got[0]!.price && r.size === got[0]!.size);
  const want = first < 0 ? [] : trades.slice(first, first + got.length).map((r) => ({ ms: r.ms, price: r.price, size: r.size, side: r.side > 0 ? 'buy' : 'sell' }));
  return { got, want, first };
}

describe('sim-metadata: a symbol whose spec cannot be made is left out, not a failed request', () => {
  it('Binance, Bybit, OKX', () => {
    const info = JSON.parse(binanceExchangeInfo('binance-spot', ['BTCUSDT', 'NOQUOTEXYZ'], null, 5).body);
    expect(info.symbols.map((s: any) => s.symbol)).toEqual(['BTCUSDT']);
    expect(info.serverTime).toBe(5);
    const coinm = JSON.parse(binanceExchangeInfo('binance-coinm', ['BTCUSD_PERP', 'ETHUSD_240927'], null, 5).body).symbols;
    expect(coinm.map((s: any) => [s.symbol, s.contractType, s.deliveryDate, s.contractSize, s.marginAsset])).toEqual([
      ['BTCUSD_PERP', 'PERPETUAL', 4133404800000, 100, 'BTC'],
      ['ETHUSD_240927', 'CURRENT_QUARTER', Date.UTC(2024, 8, 27, 8), 10, 'ETH'],
    ]);
    const bybit = bybitMetadata('linear', '/v5/market/instruments-info', new URLSearchParams('category=linear'), ['BTCUSDT', 'BTCXYZ', 'ETH-27SEP24'], 5);
    expect((bybit as any).body.result.list.map((i: any) => [i.symbol, i.contractType, i.deliveryTime, i.settleCoin])).toEqual([
      ['BTCUSDT', 'LinearPerpetual', '0', 'USDT'],
      ['ETH-27SEP24', 'LinearFutures', String(Date.UTC(2024, 8, 27, 8)), 'USDC'],
    ]);
    // OKX: a linear swap whose ctVal the project does not know is listed without its sizes.
    const okx = JSON.parse(okxMetadata('/api/v5/public/instruments', new URLSearchParams('instType=SWAP'), ['BTC-USDT-SWAP', 'PEPE-USDT-SWAP'], 5)!.body).data;
    expect(okx.map((i: any) => [i.instId, i.ctVal, i.tickSz, i.lotSz, i.ctType])).toEqual([
      ['BTC-USDT-SWAP', '0.01', '0.1', '0.1', 'linear'],
      ['PEPE-USDT-SWAP', '', '', '', 'linear'],
    ]);
  });
});

describe('ccxt: Binance spot and USD-M against the simulator', () => {
  let sim: ExchangeSim;
  let rest = '';
  let ws = '';
  beforeAll(async () => {
    sim = await startExchangeSim({ dataset: BINANCE_DATASET, port: 0, speed: 10 });
    sims.push(sim);
    rest = `http://127.0.0.1:${sim.port}`;
    ws = `ws://127.0.0.1:${sim.port}`;
  });

  const binanceApi = () => ({
    public: `${rest}/binance-spot/api/v3`,
    fapiPublic: `${rest}/binance-usdm/fapi/v1`,
    // ccxt reads "/stream" in the URL as spot (stream.binance.com); the simulator serves spot there too.
    ws: { spot: `${ws}/stream.binance.com/ws`, future: `${ws}/binance-usdm/ws` },
  });

  it('loadMarkets(): the dataset\'s four markets, with their ticks and steps, and no replay consumed', async () => {
    const ex = await client('binance', binanceApi(), { fetchMarkets: { types: ['spot', 'linear'] } });
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'BTC/USDT:USDT', 'ETH/USDT', 'ETH/USDT:USDT']);
    const spot = markets['BTC/USDT'];
    expect([spot.id, spot.type, spot.base, spot.quote, spot.precision.price, spot.precision.amount, spot.limits.amount.min]).toEqual(['BTCUSDT', 'spot', 'BTC', 'USDT', 0.01, 0.00001, 0.00001]);
    const perp = markets['BTC/USDT:USDT'];
    expect([perp.id, perp.type, perp.linear, perp.settle, perp.contractSize, perp.precision.price, perp.precision.amount]).toEqual(['BTCUSDT', 'swap', true, 'USDT', 1, 0.1, 0.001]);
    expect(markets['ETH/USDT:USDT'].precision.price).toBe(0.01);
    // Metadata does not start the replay: server time is the dataset's origin (2024-08-08T23:54:13Z).
    expect(await ex.fetchTime()).toBe(1723161253000);
    expect(sim.stats().positionNs).toBe(null);
  });

  it('exchangeInfo: Binance\'s shape; unknown symbol -1121; /ws/<anything> accepted', async () => {
    const info = (await (await fetch(`${rest}/binance-usdm/fapi/v1/exchangeInfo`)).json()) as any;
    expect(Object.keys(info)).toEqual(['timezone', 'serverTime', 'futuresType', 'rateLimits', 'exchangeFilters', 'assets', 'symbols']);
    expect(info.rateLimits).toEqual([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    ]);
    expect(info.symbols[0].filters).toEqual([
      { filterType: 'PRICE_FILTER', minPrice: '0.1', tickSize: '0.1' },
      { filterType: 'LOT_SIZE', minQty: '0.001', stepSize: '0.001' },
    ]);
    expect(info.symbols.map((s: any) => [s.symbol, s.contractType, s.deliveryDate])).toEqual([
      ['BTCUSDT', 'PERPETUAL', 4133404800000],
      ['ETHUSDT', 'PERPETUAL', 4133404800000],
    ]);
    const one = (await (await fetch(`${rest}/binance-spot/api/v3/exchangeInfo?symbol=ETHUSDT`)).json()) as any;
    expect(one.symbols.map((s: any) => s.symbol)).toEqual(['ETHUSDT']);
    const bad = await fetch(`${rest}/binance-spot/api/v3/exchangeInfo?symbol=XRPUSDT`);
    expect([bad.status, await bad.json()]).toEqual([400, { code: -1121, msg: 'Invalid symbol.' }]);
    // ccxt's /ws/0: accepted (only stream names in the path subscribe), then SUBSCRIBE is answered.
    const sock = new WebSocket(`${ws}/binance-spot/ws/0`);
    await new Promise((resolve, reject) => (sock.once('open', resolve), sock.once('error', reject)));
    const reply = new Promise<string>((resolve) => sock.once('message', (d) => resolve(d.toString())));
    sock.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 7 }));
    expect(await reply).toBe('{"result":[],"id":7}');
    sock.close();
  });

  it('spot watchOrderBook equals `dataset book` at the same exchange time; watchTrades are the dataset\'s trades', async () => {
    const ex = await client('binance', binanceApi(), { fetchMarkets: { types: ['spot', 'linear'] } });
    const facts = streamFacts(BINANCE_DATASET, 'binance-spot', 'BTCUSDT');
    const r = await bookAgainstDataset(ex, 'BTC/USDT', BINANCE_DATASET, 'binance-spot', 'BTCUSDT', facts.book, 5);
    expect(r.dataset.valid).toBe(true);
    expect(r.dataset.last_update!.id).toBe(String(r.nonce));
    expect(r.ccxt.bids).toEqual(r.dataset.bids);
    expect(r.ccxt.asks).toEqual(r.dataset.asks);
    const t = await tradesAgainstDataset(ex, 'BTC/USDT', facts.trades, 30);
    expect(t.first).toBeGreaterThanOrEqual(0);
    expect(t.got).toEqual(t.want);
  });

  it('USD-M watchOrderBook equals `dataset book` at the same exchange time; watchTrades are the dataset\'s trades', async () => {
    const ex = await client('binanceusdm', binanceApi()); // ccxt's binanceusdm loads linear markets only
    const facts = streamFacts(BINANCE_DATASET, 'binance-usdm', 'BTCUSDT');
    const r = await bookAgainstDataset(ex, 'BTC/USDT:USDT', BINANCE_DATASET, 'binance-usdm', 'BTCUSDT', facts.book, 5);
    expect(r.dataset.valid).toBe(true);
    expect(r.dataset.last_update!.id).toBe(String(r.nonce));
    expect(r.ccxt.bids).toEqual(r.dataset.bids);
    expect(r.ccxt.asks).toEqual(r.dataset.asks);
    const t = await tradesAgainstDataset(ex, 'BTC/USDT:USDT', facts.trades, 30);
    expect(t.first).toBeGreaterThanOrEqual(0);
    expect(t.got).toEqual(t.want);
  });
});

withCaptures('ccxt: Bybit (one host) and OKX against the simulator (cryptofeed captures)', () => {
  let bybitDir = '';
  let okxDir = '';
  beforeAll(async () => {
    const dir = tempDir('latencylab-ccxt-');
    bybitDir = path.join(dir, 'bybit');
    okxDir = path.join(dir, 'okx');
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'BYBIT.jsonl.gz')], bybitDir);
    await runImport('cryptofeed', [path.join(CRYPTOFEED, 'OKX.jsonl.gz')], okxDir);
    expect(fs.existsSync(path.join(okxDir, 'manifest.json'))).toBe(true);
  });

  async function bybitSim(): Promise<{ sim: ExchangeSim; api: Record<string, unknown> }> {
    const sim = await startExchangeSim({ dataset: bybitDir, port: 0, speed: 4 });
    sims.push(sim);
    const rest = `http://127.0.0.1:${sim.port}/bybit`;
    const ws = `ws://127.0.0.1:${sim.port}/bybit`;
    return { sim, api: { spot: rest, futures: rest, v2: rest, public: rest, private: rest, ws: { public: { spot: `${ws}/v5/public/spot`, linear: `${ws}/v5/public/linear` } } } };
  }

  it('Bybit and OKX metadata: the exchanges\' shapes, errors, and server time = the dataset\'s origin before any frame', async () => {
    const { sim } = await bybitSim();
    const get = async (url: string) => (await fetch(`http://127.0.0.1:${sim.port}${url}`)).text();
    expect(await get('/bybit/v5/market/instruments-info?category=linear&symbol=ETHUSDT')).toBe(
      '{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"ETHUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"ETH","quoteCoin":"USDT","deliveryTime":"0","priceScale":"2","priceFilter":{"tickSize":"0.01"},"lotSizeFilter":{"minOrderQty":"0.01","qtyStep":"0.01"},"settleCoin":"USDT"}],"nextPageCursor":""},"retExtInfo":{},"time":1786310817000}',
    );
    expect(await get('/bybit/v5/market/instruments-info?category=spot&symbol=BTCUSDT')).toBe(
      '{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","innovation":"0","status":"Trading","marginTrading":"none","lotSizeFilter":{"basePrecision":"0.000001","minOrderQty":"0.000001"},"priceFilter":{"tickSize":"0.01"}}]},"retExtInfo":{},"time":1786310817000}',
    );
    expect(JSON.parse(await get('/bybit/v5/market/instruments-info?category=inverse')).result).toEqual({ category: 'inverse', list: [], nextPageCursor: '' });
    expect(JSON.parse(await get('/bybit/v5/market/instruments-info?category=linear&status=PreLaunch')).result.list).toEqual([]);
    expect(JSON.parse(await get('/bybit/v5/market/instruments-info')).retCode).toBe(10001);
    expect(JSON.parse(await get('/bybit/v5/market/time')).result).toEqual({ timeSecond: '1786310817', timeNano: '1786310817000000000' });
    // The old per-category prefixes still answer.
    expect(JSON.parse(await get('/bybit-linear/v5/market/instruments-info?category=linear')).result.list.map((i: any) => i.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT']);
    expect(sim.stats().positionNs).toBe(null);

    const okx = await startExchangeSim({ dataset: okxDir, port: 0 });
    sims.push(okx);
    const getOkx = async (url: string) => (await fetch(`http://127.0.0.1:${okx.port}/okx${url}`)).text();
    expect(await getOkx('/api/v5/public/instruments?instType=FUTURES')).toBe(
      '{"code":"0","msg":"","data":[{"instType":"FUTURES","instId":"BTC-USD-220527","uly":"BTC-USD","instFamily":"BTC-USD","baseCcy":"","quoteCcy":"","settleCcy":"BTC","ctVal":"100","ctMult":"1","ctValCcy":"USD","ctType":"inverse","optType":"","stk":"","listTime":"","expTime":"1653638400000","alias":"","lever":"","tickSz":"","lotSz":"","minSz":"","maxLmtSz":"","maxMktSz":"","state":"live"}]}',
    );
    expect(JSON.parse(await getOkx('/api/v5/public/instruments?instType=SWAP')).data.map((i: any) => [i.instId, i.settleCcy, i.ctVal])).toEqual([['UNI-USD-SWAP', 'UNI', '10']]);
    expect(JSON.parse(await getOkx('/api/v5/public/instruments?instType=OPTION&uly=BTC-USD')).data).toEqual([]);
    expect(await getOkx('/api/v5/public/instruments')).toBe('{"code":"50014","msg":"Parameter instType can not be empty.","data":[]}');
    expect(JSON.parse(await getOkx('/api/v5/public/instruments?instType=PERP')).code).toBe('51000');
    expect(await getOkx('/api/v5/public/time')).toBe('{"code":"0","msg":"","data":[{"ts":"1652458996000"}]}');
  });

  it('Bybit loadMarkets(): spot and linear from one host, other categories empty', async () => {
    const { api } = await bybitSim();
    const ex = await client('bybit', api);
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'BTC/USDT:USDT', 'DOGE/USDT:USDT', 'ETH/USDT', 'ETH/USDT:USDT', 'SOL/USDT:USDT']);
    expect([markets['BTC/USDT'].precision.price, markets['BTC/USDT'].precision.amount]).toEqual([0.01, 0.000001]);
    expect([markets['ETH/USDT:USDT'].precision.price, markets['ETH/USDT:USDT'].precision.amount, markets['ETH/USDT:USDT'].type]).toEqual([0.01, 0.01, 'swap']);
    // No tick known for SOL: left out, not made up.
    expect(markets['SOL/USDT:USDT'].precision.price).toBe(undefined);
  });

  for (const [unified, exchange, trades] of [['BTC/USDT:USDT', 'bybit-linear', 5], ['BTC/USDT', 'bybit-spot', 3]] as const) {
    it(`Bybit ${unified} (one host): watchOrderBook equals \`dataset book\` at the same exchange time; watchTrades are the dataset's trades`, async () => {
      const { api } = await bybitSim();
      const ex = await client('bybit', api);
      const facts = streamFacts(bybitDir, exchange, 'BTCUSDT');
      const r = await bookAgainstDataset(ex, unified, bybitDir, exchange, 'BTCUSDT', facts.book, 3, 'publish');
      expect(r.dataset.valid).toBe(true);
      // ccxt keeps no nonce for Bybit books: the single book message of that millisecond pins the state.
      expect(r.dataset.last_update!.exch_ts_ns.slice(0, -6)).toBe(String(r.at));
      expect(r.ccxt.bids).toEqual(r.dataset.bids);
      expect(r.ccxt.asks).toEqual(r.dataset.asks);
      const t = await tradesAgainstDataset(ex, unified, facts.trades, trades);
      expect(t.first).toBeGreaterThanOrEqual(0);
      expect(t.got).toEqual(t.want);
    });
  }

  it('OKX loadMarkets(), watchOrderBook (checksums verified by ccxt) equals `dataset book`; watchTrades are the dataset\'s trades', async () => {
    const sim = await startExchangeSim({ dataset: okxDir, port: 0, speed: 4 });
    sims.push(sim);
    const ex = await client('okx', { rest: `http://127.0.0.1:${sim.port}/okx`, ws: `ws://127.0.0.1:${sim.port}/okx/ws/v5` });
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USD:BTC-220527', 'BTC/USDT', 'UNI/USD:UNI']);
    expect([markets['UNI/USD:UNI'].inverse, markets['UNI/USD:UNI'].contractSize]).toEqual([true, 10]);
    expect(markets['BTC/USD:BTC-220527'].expiry).toBe(Date.UTC(2022, 4, 27, 8));
    expect([markets['BTC/USDT'].precision.price, markets['BTC/USDT'].precision.amount]).toEqual([0.1, 0.00000001]);
    const facts = streamFacts(okxDir, 'okx', 'BTC-USDT');
    const r = await bookAgainstDataset(ex, 'BTC/USDT', okxDir, 'okx', 'BTC-USDT', facts.book, 2);
    expect(r.dataset.valid).toBe(true);
    expect(r.dataset.last_update!.exch_ts_ns.slice(0, -6)).toBe(String(r.at));
    expect(r.ccxt.bids).toEqual(r.dataset.bids);
    expect(r.ccxt.asks).toEqual(r.dataset.asks);
    const t = await tradesAgainstDataset(ex, 'BTC/USDT', facts.trades, 3);
    expect(t.first).toBeGreaterThanOrEqual(0);
    expect(t.got).toEqual(t.want);
  });
});
