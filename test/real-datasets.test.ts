// What a new user sees: the bundled dataset checks clean and shows the recorder's clock offset, and every
// real capture, once imported, passes `dataset check`.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../src/cli/import-command.js';
import { checkDataset } from '../src/inspection/inspect.js';
import { CRYPTOFEED, tempDir, withCaptures } from './helpers.js';

const root = path.resolve(__dirname, '..');
const bundled = path.join(root, 'datasets/binance-2024-08-08');
const cli = (...args: string[]) => spawnSync('node', [path.join(root, 'bin/latencylab.js'), ...args], { encoding: 'utf8' });

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('the bundled dataset (no ../shared needed)', () => {
  it('dataset check is clean and says the recorder clock ran 1.27 s behind', () => {
    const r = cli('dataset', 'check', bundled);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('OK (exit code 0), 2,024,353 events');
    expect(r.stdout).toContain('local clock is about 1272 ms behind binance-usdm exchange time');
    expect(r.stdout).toContain('local clock is about 1276 ms behind binance-spot exchange time');
  });

  it('check --json: four streams, no gap, no crossed book, offsets and latency after removing them', () => {
    const j = JSON.parse(cli('dataset', 'check', bundled, '--json').stdout);
    expect(j.rows).toBe(2_024_353);
    expect(j.streams.map((s: { exchange: string; symbol: string }) => `${s.exchange} ${s.symbol}`)).toEqual([
      'binance-spot BTCUSDT',
      'binance-usdm BTCUSDT',
      'binance-spot ETHUSDT',
      'binance-usdm ETHUSDT',
    ]);
    for (const s of j.streams) {
      expect(s.gaps.total).toBe(0);
      expect(s.crossed.messages).toBe(0);
      expect(s.chain.unexplained).toBe(0);
    }
    const usdm = j.exchanges.find((e: { exchange: string }) => e.exchange === 'binance-usdm');
    expect(usdm.clock_offset_ms).toBe(-1272.402);
    // one recorder: one clock model over all four streams against publish_ts, drifting about -0.3 ms a minute
    expect(j.recorder_clock).toEqual({
      basis: 'publish_ts',
      samples: 1_752_295,
      window_s: 10,
      windows: 66,
      offset_first_ms: -1273.461,
      offset_last_ms: -1276.634,
      offset_min_ms: -1276.671,
      offset_max_ms: -1273.461,
      drift_ms_per_hour: -18.377,
    });
    expect(usdm.latency_after_offset_ms.p50).toBeGreaterThan(2);
    expect(usdm.latency_after_offset_ms.p50).toBeLessThan(5);
  });

  it('dataset book shows the USD-M book as the exchange had it at midnight', () => {
    const j = JSON.parse(cli('dataset', 'book', bundled, '--exchange', 'binance-usdm', '--symbol', 'BTCUSDT', '--at', '2024-08-09T00:00:00Z', '--depth', '3', '--json').stdout);
    expect(j.valid).toBe(true);
    expect(j.best_bid).toBe(61659.7);
    expect(j.best_ask).toBe(61659.8);
    expect(j.last_update.id).toBe('5123134731148');
    expect(j.bids).toEqual([
      { price: 61659.7, size: 1.486 },
      { price: 61659, size: 0.002 },
      { price: 61658.1, size: 0.033 },
    ]);
  });

  it('an unknown stream is a clear error with a non-zero exit', () => {
    const r = cli('dataset', 'book', bundled, '--exchange', 'okx', '--symbol', 'BTC-USDT', '--at', '2024-08-09T00:00:00Z');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no stream okx BTC-USDT/);
  });
});

withCaptures('every real cryptofeed capture imports and checks clean', () => {
  it.each(['BYBIT', 'OKX', 'COINBASE'])('%s', async (name) => {
    const out = path.join(tempDir(), 'ds');
    const { summary } = await runImport('cryptofeed', [path.join(CRYPTOFEED, `${name}.jsonl.gz`)], out);
    expect(summary.gaps).toEqual({});
    const c = checkDataset(out);
    expect(c.exit_code).toBe(0);
    expect(c.local_ts_order.decreases).toBe(0);
    for (const s of c.streams) {
      expect(s.crossed.messages, s.symbol).toBe(0);
      expect(s.chain.unexplained, s.symbol).toBe(0);
    }
  });
});
