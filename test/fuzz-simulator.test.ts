// The seeded fuzz of the exchange simulator's client messages (src/fuzz/simulator-messages.ts): a short run
// finds nothing, the same seed gives the same cases, and a handler that throws is counted as a crash.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fuzzCase, run } from '../src/fuzz/simulator-messages.js';
import { OkxSimServer } from '../src/exchanges/okx/sim-server.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fuzz: simulator client messages', () => {
  it('5,000 mutated frames and REST requests over loopback: no crash, no invalid answer, no case over 100 ms', async () => {
    const r = await run(1, 5_000);
    expect(r.name).toBe('simulator-messages');
    expect(r.cases).toBe(5_000);
    expect(r.examples).toEqual([]);
    expect(r.crashes).toBe(0);
    expect(r.invalidValues).toBe(0);
    expect(r.slowCases).toBe(0);
    expect(r.maxMs).toBeLessThanOrEqual(100);
  }, 240_000);

  it('case n is a function of (seed, n): the same frame every time, another seed another frame', () => {
    expect(fuzzCase(1, 0)).toEqual({ lane: 'binance-spot /ws', frame: '{"method":"SUBSCRIBE","params":["btcusdtookTicker"],"id":"abc"}' });
    expect(fuzzCase(1, 5)).toEqual({ lane: 'okx /ws/v5/public', frame: 'pin' });
    expect(fuzzCase(1, 6)).toEqual({ lane: 'binance-spot REST', frame: 'GET /api/v3/time' });
    for (let n = 0; n < 50; n++) expect(fuzzCase(7, n)).toEqual(fuzzCase(7, n));
    let differ = 0;
    for (let n = 0; n < 50; n++) if (fuzzCase(7, n).frame !== fuzzCase(8, n).frame) differ++;
    expect(differ).toBeGreaterThan(40);
  });

  it('a handler that throws is a crash, with an example', async () => {
    const original = OkxSimServer.prototype.onClientMessage;
    vi.spyOn(OkxSimServer.prototype, 'onClientMessage').mockImplementation(function (this: OkxSimServer, conn, text) {
      if (text.startsWith('{"op":"subscribe"')) throw new Error('planted');
      original.call(this, conn, text);
    });
    const r = await run(1, 200);
    expect(r.crashes).toBeGreaterThan(0);
    expect(r.examples.some((e) => e.includes('Error: planted'))).toBe(true);
  }, 120_000);
});
