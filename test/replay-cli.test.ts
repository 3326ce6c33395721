// A user runs `latencylab replay` from the shell: a summary stating the latencies, Arrow output, clear errors.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const root = path.resolve(__dirname, '..');
const cli = (...args: string[]) => spawnSync('node', [path.join(root, 'bin/latencylab.js'), ...args], { encoding: 'utf8', cwd: root });

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('latencylab replay', () => {
  it('prints a summary that states every latency with units, and writes fills, orders and the PnL curve as Arrow', () => {
    const out = path.join(tempDir(), 'run');
    const r = cli('replay', '--strategy', 'perp-leads-spot', '--latency', '1ms', '--order-latency', '250us', '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('latency binance-spot BTCUSDT: feed 1ms, order 250us, response 1ms');
    expect(r.stdout).toContain('latency binance-usdm BTCUSDT: feed 1ms, order 250us, response 1ms');
    expect(r.stdout).toMatch(/gross PnL +-?\d+\.\d{4} USDT/);
    expect(r.stdout).toContain('accounting reconciles with the fills: yes');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const fills = tableFromIPC(fs.readFileSync(path.join(out, 'fills.arrow')));
    const orders = tableFromIPC(fs.readFileSync(path.join(out, 'orders.arrow')));
    const equity = tableFromIPC(fs.readFileSync(path.join(out, 'equity.arrow')));
    expect(fills.numRows).toBe(summary.fills);
    expect(orders.numRows).toBe(summary.orders);
    expect(equity.numRows).toBeGreaterThan(600); // one point a second over ~650 s
    let fees = 0;
    for (const f of fills.getChild('fee')!.toArray() as Float64Array) fees += f;
    expect(fees).toBeCloseTo(summary.fees_paid, 6);
    // run.json: what latencylab audit needs to find the run's market data again.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'))).toEqual({
      format: 'latencylab-run',
      dataset: path.resolve(path.dirname(path.dirname(__filename)), 'datasets/binance-2024-08-08'),
      strategy: 'perp-leads-spot',
      params: {},
      venues: [
        { exchange: 'binance-spot', symbol: 'BTCUSDT' },
        { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
      ],
      latency: '1ms',
      seed: 1,
      queue: 'risk-averse',
      fill_rule: 'conservative',
      markout_horizon_ms: 1000,
    });
    expect(summary.fill_rule).toBe('conservative');
    expect(r.stdout).toContain('queue risk-averse; fill rule conservative; seed 1');
  });

  it('--audit prints the audit after the summary, and needs --out', () => {
    const out = path.join(tempDir(), 'run');
    const r = cli('replay', '--strategy', 'market-maker', '--latency', '1ms', '--out', out, '--audit');
    expect(r.status).toBe(0);
    const at = r.stdout.indexOf('audit: market-maker');
    expect(at).toBeGreaterThan(r.stdout.indexOf('accounting reconciles with the fills: yes'));
    expect(r.stdout.slice(at)).toContain('maker fills 180: 0 unsupported (0.0%), PnL 0.0000');
    const bad = cli('replay', '--strategy', 'market-maker', '--audit');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--audit needs --out <dir>');
  });

  it('--json gives the same numbers twice (deterministic), and --param runs the strategy on ETH', () => {
    const a = JSON.parse(cli('replay', '--strategy', 'market-maker', '--latency', '5ms', '--json').stdout);
    const b = JSON.parse(cli('replay', '--strategy', 'market-maker', '--latency', '5ms', '--json').stdout);
    expect(a).toEqual(b);
    expect(a.latency).toEqual(['binance-usdm BTCUSDT: feed 5ms, order 5ms, response 5ms']);
    const eth = JSON.parse(cli('replay', '--strategy', 'market-maker', '--param', 'symbol=ETHUSDT', '--param', 'size=0.1', '--param', 'maxInventory=0.5', '--json').stdout);
    expect(eth.venues).toEqual(['binance-usdm ETHUSDT']);
    expect(eth.fills).toBeGreaterThan(0);
  });

  it('--fill-rule optimistic is recorded in run.json and the summary, and changes the market maker\'s fills (1 ms: 180 -> 105)', () => {
    const out = path.join(tempDir(), 'run');
    const r = cli('replay', '--strategy', 'market-maker', '--latency', '1ms', '--fill-rule', 'optimistic', '--out', out, '--json');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.fill_rule).toBe('optimistic');
    expect(s.fills).toBe(105);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).fill_rule).toBe('optimistic');
    const bad = cli('replay', '--strategy', 'market-maker', '--fill-rule', 'hftbacktest');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--fill-rule must be one of conservative, optimistic, got "hftbacktest"');
  });

  it('--venue-latency replaces the run-wide setting of the same name only (docs/replay.md)', () => {
    const j = JSON.parse(
      cli('replay', '--strategy', 'perp-leads-spot', '--latency', '5ms', '--feed-latency', 'recorded', '--venue-latency', 'binance-spot:latency=250us', '--venue-latency', 'binance-usdm:feed=1ms', '--json').stdout,
    );
    // binance-spot's latency=250us replaces --latency 5ms; the run-wide --feed-latency recorded still holds.
    expect(j.latency).toEqual([
      'binance-spot BTCUSDT: feed recorded (recorder clock -1273.461ms drifting -18.377ms/h removed), order 250us, response 250us',
      'binance-usdm BTCUSDT: feed 1ms, order 5ms, response 5ms',
    ]);
  });

  it.each([
    [['--strategy', 'nosuch'], /unknown strategy "nosuch" \(built in: ma-crossover, market-maker, perp-leads-spot/],
    [['--strategy', 'market-maker', '--param', 'nosuch=1'], /unknown parameter "nosuch"/],
    [['--strategy', 'market-maker', '--param', 'size=abc'], /parameter "size" must be a number, got "abc"/],
    [['--strategy', 'market-maker', '--latency', '5parsecs'], /--latency "5parsecs": unknown unit "parsecs"/],
    [['--strategy', 'market-maker', '--dataset', '/nonexistent/ds'], /dataset not found: \/nonexistent\/ds/],
    [['--strategy', 'market-maker', '--param', 'symbol=XRPUSDT'], /has no stream binance-usdm XRPUSDT/],
    [['--strategy', 'market-maker', '--venue-latency', 'binance-usdm:nope=1ms'], /--venue-latency takes <exchange>:<leg>=<duration>/],
  ])('%j fails with a clear error and a non-zero exit', (args, message) => {
    const r = cli('replay', ...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
