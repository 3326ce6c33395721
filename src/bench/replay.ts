// Replay throughput: the market maker over the real USD-M capture repeated to >= 10 million events,
// beside a plain scan of the same typed arrays; and a sweep of N latencies (data decoded once) against
// N separate replays (each decoding the dataset).
import path from 'node:path';
import { loadMarketData, type MarketChunk, type MarketData } from '../engine/market-data.js';
import { prepare, runOnce, runPrepared, type RunOptions } from '../engine/session.js';

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The data repeated `times` times back to back in time (each copy shifted by the span plus 1 s). */
function repeated(data: MarketData, times: number): MarketData {
  const span = Math.max(...data.exchangeOrder.map((cs) => (cs.length ? cs[cs.length - 1]!.effNs[cs[cs.length - 1]!.length - 1]! : 0))) + 1e9;
  const shift = (c: MarketChunk, by: number): MarketChunk => {
    const add = (a: Float64Array) => a.map((x) => x + by);
    return { ...c, effNs: add(c.effNs), exchNs: add(c.exchNs), localNs: add(c.localNs), pubNs: add(c.pubNs) };
  };
  const copies = (chunks: MarketChunk[][]) =>
    chunks.map((cs) => {
      const out: MarketChunk[] = [];
      for (let k = 0; k < times; k++) for (const c of cs) out.push(k === 0 ? c : shift(c, k * span));
      return out;
    });
  return { ...data, byVenue: copies(data.byVenue), exchangeOrder: copies(data.exchangeOrder), rows: data.rows * times };
}

function scan(data: MarketData): number {
  let sum = 0;
  for (const cs of data.byVenue) {
    for (const c of cs) {
      const { length: n, kind, side, flags, price, size, effNs } = c;
      for (let i = 0; i < n; i++) sum += kind[i]! + side[i]! + flags[i]! + price[i]! + size[i]! + effNs[i]! * 1e-12;
    }
  }
  return sum;
}

export async function benchReplay(root: string): Promise<void> {
  const dataset = path.join(root, 'datasets/binance-2024-08-08');
  const base: RunOptions = { dataset, strategy: 'market-maker', params: {}, latency: { latency: '1ms' }, seed: 1, queue: 'risk-averse' };
  const prep = await prepare(base);
  const data = loadMarketData(dataset, prep.venues);
  const times = Math.ceil(10_000_000 / data.rows);
  const big = repeated(data, times);

  let best = Infinity;
  let result = runPrepared(prep, big, base);
  for (let r = 0; r < 3; r++) {
    const p = await prepare(base);
    const t = performance.now();
    result = runPrepared(p, big, base);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  let scanBest = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    scan(big);
    scanBest = Math.min(scanBest, (performance.now() - t) / 1000);
  }
  const rate = big.rows / best;
  const scanRate = big.rows / scanBest;
  console.log(`\nreplay (market-maker on binance-usdm BTCUSDT, 1ms each leg, the capture repeated ${times}x)`);
  console.log(`  replay            ${fmt(rate).padStart(13)} events/s  (${fmt(big.rows)} events in ${best.toFixed(2)} s; ${result.summary.orders} orders, ${result.summary.fills} fills)`);
  console.log(`  baseline scan     ${fmt(scanRate).padStart(13)} events/s  (the same typed arrays, summed)`);
  console.log(`  ratio scan / replay ${(scanRate / rate).toFixed(2)}`);

  // Sweep: decode once and simulate N latencies, against N runs that each decode the dataset.
  const latencies = ['0', '250us', '1ms', '5ms', '10ms', '50ms'];
  const t0 = performance.now();
  const shared = loadMarketData(dataset, prep.venues);
  for (const l of latencies) runPrepared(await prepare(base), shared, { ...base, latency: { latency: l } });
  const sweepS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (const l of latencies) await runOnce({ ...base, latency: { latency: l } });
  const separateS = (performance.now() - t1) / 1000;
  console.log(`\nsweep of ${latencies.length} latencies on one thread (market-maker, bundled dataset)`);
  console.log(`  decode once, simulate ${latencies.length}x   ${sweepS.toFixed(2)} s`);
  console.log(`  ${latencies.length} separate replays         ${separateS.toFixed(2)} s`);
  console.log(`  ratio sweep / separate        ${(sweepS / separateS).toFixed(2)}`);
}
