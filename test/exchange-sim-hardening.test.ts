// The exchange simulator against hostile clients, over real loopback sockets with a plain `ws` client: one
// client's message (deeply nested ids, params and args, a junk frame, a request target that is not a path,
// a handler that throws) gets the exchange's own error and never takes the server down for the others;
// payloads, unread bytes, subscriptions and log lines are bounded; binding beyond loopback warns.
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import WebSocket from 'ws';
import { registerExchangeSimCommand } from '../src/cli/exchange-sim-command.js';
import { exposureWarning, isLoopbackHost, LogLimiter, startExchangeSim, DEFAULT_MAX_PAYLOAD_BYTES, type ExchangeSim } from '../src/exchange-sim/server.js';
import type { ExchangeSimOptions } from '../src/exchange-sim/types.js';
import { BinanceSimServer } from '../src/exchanges/binance/sim-server.js';
import { writeFuzzDataset } from '../src/fuzz/simulator-messages.js';
import { tempDir } from './helpers.js';

const BINANCE_DATASET = path.resolve(__dirname, '../datasets/binance-2024-08-08');

let dataset = '';
beforeAll(() => {
  dataset = writeFuzzDataset(path.join(tempDir('latencylab-sim-hard-'), 'ds'));
});

const sims: ExchangeSim[] = [];
async function sim(opts: Partial<ExchangeSimOptions> = {}): Promise<ExchangeSim> {
  const s = await startExchangeSim({ dataset, port: 0, speed: 'max', start: 'listen', ...opts });
  sims.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A client that keeps every frame and how it closed. */
class Client {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
    this.ws.on('message', (d) => this.frames.push(d.toString()));
  }

  /** Sends `text`, resolves with the first frame after those already received (ignoring market data). */
  async ask(text: string | Buffer, ms = 10_000): Promise<string> {
    const from = this.frames.length;
    this.ws.send(text);
    const deadline = performance.now() + ms;
    for (;;) {
      const reply = this.frames.slice(from).find((f) => !isMarketData(f));
      if (reply !== undefined) return reply;
      if (performance.now() > deadline) throw new Error(`no reply in ${ms} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

const isMarketData = (f: string) => /^\{"(stream|e|topic|arg|u)"/.test(f) || f.includes('"e":"');
const noConnId = (text: string) => text.replace(/"conn_id":"[^"]+"/, '"conn_id":"X"').replace(/"connId":"[^"]+"/, '"connId":"X"');
/** A JSON array nested `d` deep: JSON.stringify and String() of it overflow the stack from about 5,000. */
const nested = (d: number) => '['.repeat(d) + ']'.repeat(d);
const DEEP = nested(10_000);

async function healthyBinance(s: ExchangeSim): Promise<void> {
  const c = new Client(`${s.baseUrl('binance-spot')}/ws`);
  await c.opened;
  expect(await c.ask('{"method":"GET_PROPERTY","params":["combined"],"id":9}')).toBe('{"result":false,"id":9}');
  c.close();
}

describe('exchange-sim: one client\'s message never takes the server down', () => {
  it('Binance: a deeply nested id or params get error code 2 with the value cut short; other clients are served', async () => {
    const s = await sim();
    const bystander = new Client(`${s.baseUrl('binance-usdm')}/ws`);
    const c = new Client(`${s.baseUrl('binance-spot')}/ws`);
    await Promise.all([c.opened, bystander.opened]);
    expect(await c.ask(`{"method":"SUBSCRIBE","params":[],"id":${DEEP}}`)).toBe(
      '{"code":2,"msg":"Invalid request: request ID must be an unsigned integer, got [[[…]]]"}',
    );
    expect(await c.ask(`{"method":"SUBSCRIBE","params":[${DEEP}],"id":1}`)).toBe('{"code":2,"msg":"Invalid request: invalid stream name [[[…]]]","id":1}');
    expect(await c.ask(`{"method":"SUBSCRIBE","params":[{"a":${DEEP}}],"id":2}`)).toBe('{"code":2,"msg":"Invalid request: invalid stream name {\\"a\\":[[…]]}","id":2}');
    // The connection itself goes on; a request without id is answered with "id":null, as Binance does.
    expect(await c.ask('{"method":"LIST_SUBSCRIPTIONS"}')).toBe('{"result":[],"id":null}');
    expect(await bystander.ask('{"method":"LIST_SUBSCRIPTIONS","id":7}')).toBe('{"result":[],"id":7}');
    expect(s.stats().handlerErrors).toBe(0);
    c.close();
    bystander.close();
  });

  it('Bybit: a deeply nested req_id is echoed cut short, nested args fail the request', async () => {
    const s = await sim();
    const lin = new Client(`${s.baseUrl('bybit-linear')}/v5/public/linear`);
    const spot = new Client(`${s.baseUrl('bybit-spot')}/v5/public/spot`);
    await Promise.all([lin.opened, spot.opened]);
    expect(noConnId(await lin.ask(`{"op":"ping","req_id":${DEEP}}`))).toBe('{"success":true,"ret_msg":"pong","conn_id":"X","req_id":"[[[…]]]","op":"ping"}');
    expect(noConnId(await lin.ask(`{"op":"subscribe","args":[${DEEP}]}`))).toBe(
      '{"success":false,"ret_msg":"error:handler not found,topic:[[[…]]]","conn_id":"X","req_id":"","op":"subscribe"}',
    );
    expect(noConnId(await spot.ask(`{"op":"subscribe","args":["publicTrade.BTCUSDT"],"req_id":${DEEP}}`))).toBe(
      '{"success":true,"ret_msg":"subscribe","conn_id":"X","req_id":"[[[…]]]","op":"subscribe"}',
    );
    expect(noConnId(await spot.ask('{"op":"ping"}'))).toBe('{"success":true,"ret_msg":"pong","conn_id":"X","op":"ping"}');
    lin.close();
    spot.close();
    await healthyBinance(s);
  });

  it('OKX: a deeply nested id is echoed cut short; 60012 quotes at most 256 characters of the request', async () => {
    const s = await sim();
    const c = new Client(`${s.baseUrl('okx')}/ws/v5/public`);
    await c.opened;
    expect(noConnId(await c.ask(`{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}],"id":${DEEP}}`))).toBe(
      '{"id":"[[[…]]]","event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"X"}',
    );
    const bad = `{"op":"nope","id":${DEEP}}`;
    const err = JSON.parse(await c.ask(bad));
    expect(err).toEqual({ id: '[[[…]]]', event: 'error', code: '60012', msg: `Invalid request: ${bad.slice(0, 256)}…`, connId: err.connId });
    const junk = 'x'.repeat(60_000);
    const e2 = JSON.parse(await c.ask(junk));
    expect(e2.msg).toBe(`Invalid request: ${'x'.repeat(256)}…`);
    expect(await c.ask('ping')).toBe('pong');
    c.close();
    await healthyBinance(s);
  });

  it('a 20 MB junk frame closes that connection with 1009 and is not echoed; the server goes on', async () => {
    const s = await sim();
    const c = new Client(`${s.baseUrl('okx')}/ws/v5/public`);
    await c.opened;
    c.ws.send('x'.repeat(20 * 1024 * 1024));
    expect(await c.closed).toBe(1009);
    expect(c.frames).toEqual([]);
    expect(s.stats().oversizeMessages).toBe(1);
    await healthyBinance(s);
  });

  it('maxPayloadBytes: a message one byte over the limit closes with 1009, one at the limit is answered', async () => {
    const s = await sim({ maxPayloadBytes: 1000 });
    const c = new Client(`${s.baseUrl('bybit-spot')}/v5/public/spot`);
    await c.opened;
    const at = `{"op":"ping","req_id":"${'a'.repeat(1000 - 25)}"}`;
    expect(at.length).toBe(1000);
    expect(JSON.parse(await c.ask(at)).ret_msg).toBe('pong');
    c.ws.send(`${at} `);
    expect(await c.closed).toBe(1009);
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(65_536);
  });

  it('HTTP: GET //%zz gets 400 naming the target; a body over the limit gets 413; the server goes on', async () => {
    const s = await sim({ maxPayloadBytes: 1000 });
    const request = (target: string, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: s.port, path: target, method: body ? 'POST' : 'GET', headers: body ? { 'Content-Length': String(body.length) } : {} }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: b }));
        });
        r.on('error', reject);
        r.end(body);
      });
    expect(await request('//%zz')).toEqual({ status: 400, body: '{"error":"request target \\"//%zz\\" is not a path"}' });
    expect(await request('/%zz')).toEqual({ status: 404, body: '{"error":"no exchange \\"%zz\\" here; served: binance-spot, binance-usdm, binance-coinm, bybit-spot, bybit-linear, okx, stream.binance.com, bybit"}' });
    expect(await request('/binance-spot/api/v3/time', 'x'.repeat(1001))).toEqual({ status: 413, body: '{"error":"request body over 1000 bytes"}' });
    await s.done; // the dataset played to its end: the last bid change at 99.5 was to size 39
    const ok = await request('/binance-spot/api/v3/depth?symbol=BTCUSDT&limit=2');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).bids).toEqual([
      ['100', '1'],
      ['99.5', '39'],
    ]);
    // The WebSocket upgrade path refuses such a target too.
    const ws = new Client(`ws://127.0.0.1:${s.port}//%zz`);
    await expect(ws.opened).rejects.toThrow('400');
    expect(s.stats().requestsRefused).toBe(3);
    await healthyBinance(s);
  });

  it('market metadata (exchangeInfo, instruments-info, instruments) against nested, wrong-type and huge queries: the exchange\'s answer, nothing echoed, no handler error', async () => {
    const s = await sim();
    const nested = encodeURIComponent('['.repeat(1000) + ']'.repeat(1000));
    const huge = 'X'.repeat(5000);
    const get = async (target: string) => {
      const r = await fetch(`http://127.0.0.1:${s.port}${target}`);
      return [r.status, await r.text()];
    };
    const illegal = `{"code":-1100,"msg":"Illegal characters found in parameter 'symbols'; legal range is '^\\\\[(\\"[A-Z0-9-_.]{1,20}\\"(,\\"[A-Z0-9-_.]{1,20}\\"){0,}){0,1}\\\\]$'."}`;
    expect(await get(`/binance-spot/api/v3/exchangeInfo?symbols=${nested}`)).toEqual([400, illegal]);
    expect(await get('/binance-spot/api/v3/exchangeInfo?symbols=5')).toEqual([400, illegal]);
    expect(await get(`/binance-usdm/fapi/v1/exchangeInfo?symbol=${huge}`)).toEqual([400, '{"code":-1121,"msg":"Invalid symbol."}']);
    const [, bybitBad] = await get(`/bybit/v5/market/instruments-info?category=${huge}`);
    expect(JSON.parse(bybitBad as string)).toMatchObject({ retCode: 10001, retMsg: 'params error: Category is invalid', result: {} });
    const [, bybitNested] = await get(`/bybit/v5/market/instruments-info?category=linear&symbol=${nested}`);
    expect(JSON.parse(bybitNested as string).result).toEqual({ category: 'linear', list: [], nextPageCursor: '' }); // as Bybit: no such symbol, an empty list
    expect(await get(`/okx/api/v5/public/instruments?instType=${huge}`)).toEqual([200, '{"code":"51000","msg":"Parameter instType error","data":[]}']);
    expect(await get(`/okx/api/v5/public/instruments?instType=SPOT&instId=${nested}`)).toEqual([200, '{"code":"0","msg":"","data":[]}']);
    expect(s.stats().handlerErrors).toBe(0);
    await healthyBinance(s);
  });

  it('an exception in a handler: that client gets the exchange\'s error, it is counted and logged, others go on', async () => {
    const log: string[] = [];
    const s = await sim({ log: (l) => log.push(l) });
    const c = new Client(`${s.baseUrl('binance-spot')}/ws`);
    await c.opened;
    vi.spyOn(BinanceSimServer.prototype, 'onClientMessage').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    expect(await c.ask('{"method":"LIST_SUBSCRIPTIONS","id":1}')).toBe('{"code":2,"msg":"Invalid request: Error: boom"}');
    expect(await c.ask('{"method":"LIST_SUBSCRIPTIONS","id":2}')).toBe('{"result":[],"id":2}');
    vi.spyOn(BinanceSimServer.prototype, 'onRest').mockImplementationOnce(() => {
      throw new RangeError('deep');
    });
    const r = await fetch(`${s.restUrl('binance-spot')}/api/v3/depth?symbol=BTCUSDT&limit=5`);
    expect(r.status).toBe(500);
    expect(await r.text()).toBe('{"code":-1000,"msg":"An unknown error occurred while processing the request: RangeError: deep"}');
    expect(s.stats().handlerErrors).toBe(2);
    expect(log.filter((l) => l.includes('failed:'))).toEqual([
      `binance-spot connection ${log.find((l) => l.startsWith('binance-spot: connection'))!.split(' ')[2]} message failed: Error: boom`,
      'binance-spot REST /api/v3/depth failed: RangeError: deep',
    ]);
    c.close();
    await healthyBinance(s);
  });
});

describe('exchange-sim: per-client bounds', () => {
  it('a client past maxBufferedBytes unread (here: frames held by a stall) is disconnected', async () => {
    const s = await startExchangeSim({ dataset: BINANCE_DATASET, port: 0, speed: 'max', maxBufferedBytes: 20_000, faults: [{ at: 1, fault: { kind: 'stall', ms: 60_000 } }] });
    sims.push(s);
    const c = new Client(`${s.baseUrl('binance-usdm')}/ws/btcusdt@depth@0ms`);
    await c.opened;
    expect(await c.closed).toBe(1006);
    expect(c.frames.length).toBe(1);
    expect(s.stats().slowClientsCut).toBe(1);
  });

  it('subscriptions per connection: at most 1024 (Bybit, OKX, Binance)', async () => {
    const s = await sim();
    const topics = Array.from({ length: 1025 }, (_, i) => `tickers.SYM${i}`);
    const lin = new Client(`${s.baseUrl('bybit-linear')}/v5/public/linear`);
    const okx = new Client(`${s.baseUrl('okx')}/ws/v5/public`);
    const bin = new Client(`${s.baseUrl('binance-spot')}/ws`);
    await Promise.all([lin.opened, okx.opened, bin.opened]);
    expect(noConnId(await lin.ask(JSON.stringify({ op: 'subscribe', args: topics, req_id: 'a' })))).toBe(
      '{"success":false,"ret_msg":"error:too many topics (at most 1024 per connection)","conn_id":"X","req_id":"a","op":"subscribe"}',
    );
    expect(JSON.parse(await lin.ask(JSON.stringify({ op: 'subscribe', args: topics.slice(0, 1024), req_id: 'b' }))).success).toBe(true);
    expect(JSON.parse(await lin.ask(JSON.stringify({ op: 'subscribe', args: ['tickers.ONEMORE'], req_id: 'c' }))).ret_msg).toBe('error:too many topics (at most 1024 per connection)');
    const args = Array.from({ length: 1025 }, (_, i) => ({ channel: 'tickers', instId: `S${i}` }));
    expect(noConnId(await okx.ask(JSON.stringify({ op: 'subscribe', args, id: 'o1' })))).toBe(
      '{"id":"o1","event":"error","code":"60012","msg":"Invalid request: too many subscriptions (at most 1024 per connection)","connId":"X"}',
    );
    const streams = Array.from({ length: 1025 }, (_, i) => `s${i}@trade`);
    expect(await bin.ask(JSON.stringify({ method: 'SUBSCRIBE', params: streams, id: 3 }))).toBe('{"code":2,"msg":"Invalid request: too many streams (at most 1024 per connection)","id":3}');
    expect(await bin.ask(JSON.stringify({ method: 'SUBSCRIBE', params: [`${'a'.repeat(130)}@trade`], id: 4 }))).toBe(
      `{"code":2,"msg":"Invalid request: invalid stream name \\"${'a'.repeat(40)}…\\"","id":4}`,
    );
    const long = `tickers.${'A'.repeat(121)}`;
    expect(long.length).toBe(129);
    expect(JSON.parse(await lin.ask(JSON.stringify({ op: 'unsubscribe', args: [long], req_id: 'd' }))).ret_msg).toBe(`error:handler not found,topic:${long}`);
    expect(JSON.parse(await okx.ask(JSON.stringify({ op: 'subscribe', args: [{ channel: 'trades', instId: 'I'.repeat(65) }], id: 'o2' }))).code).toBe('60018');
    lin.close();
    okx.close();
    bin.close();
  });
});

describe('exchange-sim: bounded logs, the loopback warning', () => {
  it('LogLimiter: at most N lines of a kind a minute, one notice, then the count the next minute', () => {
    const out: string[] = [];
    let now = 0;
    const l = new LogLimiter((x) => out.push(x), 2, () => now);
    for (let i = 0; i < 5; i++) l.line('connection', `c${i}`);
    l.line('fault', 'f0');
    now = 60_000;
    l.line('connection', 'c5');
    expect(out).toEqual([
      'c0',
      'c1',
      'more than 2 "connection" lines this minute: counting the rest instead of logging them',
      'f0',
      '3 more "connection" line(s) were not logged in the last minute',
      'c5',
    ]);
    expect(l.suppressedTotal).toBe(3);
  });

  it('the server\'s connection lines go through it: maxLogLinesPerMinute 1, three connections', async () => {
    const log: string[] = [];
    const s = await sim({ maxLogLinesPerMinute: 1, log: (x) => log.push(x) });
    for (let i = 0; i < 3; i++) {
      const c = new Client(`${s.baseUrl('okx')}/ws/v5/public`);
      await c.opened;
      expect(await c.ask('ping')).toBe('pong');
      c.close();
    }
    expect(log.filter((x) => x.includes('connection'))).toEqual([
      expect.stringMatching(/^okx: connection \d+ on \/ws\/v5\/public$/),
      'more than 1 "connection" lines this minute: counting the rest instead of logging them',
    ]);
    expect(s.stats().logLinesSuppressed).toBeGreaterThanOrEqual(2);
  });

  it('binding beyond loopback names the risk; loopback addresses do not warn', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
      expect(exposureWarning(h)).toBeNull();
    }
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.internal', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
    expect(exposureWarning('0.0.0.0')).toBe(
      "warning: listening on 0.0.0.0, beyond this machine's loopback: the simulator has no authentication, so anyone who can reach this address can connect, subscribe and use its memory and CPU; bind to 127.0.0.1 unless that is wanted",
    );
  });

  it('the command prints the warning before it binds (here to 192.0.2.1, a documentation address this machine does not have)', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    const program = new Command().exitOverride();
    registerExchangeSimCommand(program);
    await expect(program.parseAsync(['exchange-sim', '--dataset', dataset, '--host', '192.0.2.1', '--port', '0', '--quiet'], { from: 'user' })).rejects.toThrow(/EADDRNOTAVAIL|listen/);
    expect(err[0]).toBe(`exchange-sim: ${exposureWarning('192.0.2.1')}\n`);
    const bad = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerExchangeSimCommand(bad);
    await expect(bad.parseAsync(['exchange-sim', '--dataset', dataset, '--max-payload-bytes', '64k'], { from: 'user' })).rejects.toThrow(
      '--max-payload-bytes must be a whole number of bytes >= 1, got "64k"',
    );
  });
});
