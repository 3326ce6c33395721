// Exchange-time resolution and the sweep's resolution warnings (src/report/resolution.ts), on a hand-made
// dataset and hand-made grids with exact values.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { openDataset } from '../src/data/reader.js';
import { EventKind, Flag } from '../src/data/types.js';
import { NS_PER_S } from '../src/data/time.js';
import { exchangeTimeResolutions, resolutionWarnings, type StreamResolution } from '../src/report/resolution.js';
import { tempDir } from './helpers.js';

const T0 = 1_723_161_600n * NS_PER_S;
const MS = 1_000_000n;

function dataset(): string {
  const dir = path.join(tempDir('latencylab-resolution-'), 'ds');
  const w = new DatasetWriter(dir);
  const ms = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
  const us = w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' });
  const none = w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'ETHUSDT' });
  const coarse = w.stream({ exchange: 'okx', market: 'linear', symbol: 'BTC-USDT-SWAP' });
  let id = 1n;
  const ev = (s: number, exch: bigint, kind: number, flags: number = Flag.MessageEnd, local = exch + 3n * MS + 17n) =>
    w.event(s, local, exch, kind, 1, 100, 1, id++, id - 2n, flags);
  // ms stream: multiples of 1 ms; a gap marker at an odd ns time does not count.
  ev(ms, T0 + 5n * MS, EventKind.Trade);
  ev(ms, T0 + 12n * MS, EventKind.BookLevel);
  ev(ms, T0 + 12n * MS + 1n, EventKind.Gap);
  // µs stream: one row at 7 µs past a ms; a bookTicker row without exchange time (odd ns) does not count.
  ev(us, T0 + 20n * MS, EventKind.BookLevel);
  ev(us, T0 + 21n * MS + 7_000n, EventKind.Trade);
  ev(us, T0 + 22n * MS + 123n, EventKind.BestBidOffer, Flag.MessageEnd | Flag.NoExchangeTime, T0 + 22n * MS + 123n);
  // no stream rows with an exchange time of their own.
  ev(none, T0 + 30n * MS + 5n, EventKind.BestBidOffer, Flag.MessageEnd | Flag.NoExchangeTime, T0 + 30n * MS + 5n);
  // whole seconds (and one at 10 ms): 10 ms.
  ev(coarse, T0 + 2n * NS_PER_S, EventKind.Trade);
  ev(coarse, T0 + 3n * NS_PER_S + 10n * MS, EventKind.Trade);
  w.close();
  return dir;
}

describe('exchangeTimeResolutions()', () => {
  it('finds the largest power of ten dividing every exchange time of each stream, markers and NoExchangeTime rows left out', () => {
    const ds = openDataset(dataset());
    expect(exchangeTimeResolutions(ds, [0, 1, 2, 3])).toEqual([
      { exchange: 'binance-usdm', symbol: 'BTCUSDT', resolution_ns: 1_000_000 },
      { exchange: 'binance-spot', symbol: 'BTCUSDT', resolution_ns: 1_000 },
      { exchange: 'binance-spot', symbol: 'ETHUSDT', resolution_ns: null },
      { exchange: 'okx', symbol: 'BTC-USDT-SWAP', resolution_ns: 10_000_000 },
    ]);
    // Only the streams asked for, in the order asked.
    expect(exchangeTimeResolutions(ds, [3, 0]).map((r) => r.resolution_ns)).toEqual([10_000_000, 1_000_000]);
  });

  it('is 1 ms for both venues of the bundled dataset (Binance exchange times are in ms)', () => {
    const ds = openDataset(path.resolve(__dirname, '..', 'datasets/binance-2024-08-08'));
    const spot = ds.findStream('binance-spot', 'BTCUSDT');
    const usdm = ds.findStream('binance-usdm', 'BTCUSDT');
    expect(exchangeTimeResolutions(ds, [spot, usdm]).map((r) => r.resolution_ns)).toEqual([1_000_000, 1_000_000]);
  });
});

describe('resolutionWarnings()', () => {
  const lat = (text: string, ns: number) => ({ text, ns });
  const venues: StreamResolution[] = [
    { exchange: 'binance-usdm', symbol: 'BTCUSDT', resolution_ns: 1_000_000 },
    { exchange: 'x', symbol: 'Y', resolution_ns: 10_000 },
    { exchange: 'z', symbol: 'W', resolution_ns: null },
  ];

  it('warns for each adjacent pair closer than a venue resolution, naming the venues; a difference equal to it is fine', () => {
    const w = resolutionWarnings([lat('1ms', 1e6), lat('0', 0), lat('100us', 1e5), lat('105us', 105_000), lat('2ms', 2e6)], venues);
    expect(w.map((x) => [x.low, x.high, x.resolution_ns, x.venues])).toEqual([
      ['0', '100us', 1e6, ['binance-usdm BTCUSDT']],
      ['100us', '105us', 1e6, ['binance-usdm BTCUSDT', 'x Y']],
      ['105us', '1ms', 1e6, ['binance-usdm BTCUSDT']],
    ]);
    expect(w[1]!.text).toBe(
      '100us and 105us differ by 5us, less than the exchange-time resolution (1ms on binance-usdm BTCUSDT, 10us on x Y): ' +
        'the data cannot tell these latencies apart, and their results may be identical',
    );
    expect(w[0]!.low_ns).toBe(0);
    expect(w[0]!.high_ns).toBe(100_000);
  });

  it('says nothing when every step is at least the resolution, or no venue has one', () => {
    expect(resolutionWarnings([lat('0', 0), lat('1ms', 1e6), lat('5ms', 5e6)], venues)).toEqual([]);
    expect(resolutionWarnings([lat('0', 0), lat('1ns', 1)], [venues[2]!])).toEqual([]);
  });
});
