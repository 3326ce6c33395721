// The latency flags of replay and sweep: how a venue's settings combine with the run-wide ones (shown end to
// end by a strategy that times its own orders and cancels), a venue the run does not trade, and the units.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkLatencyOptions, runOnce, UsageError, venueLatencyOptions } from '../src/engine/session.js';
import { toRunOptions, type RunCliOptions } from '../src/cli/replay-command.js';
import { parseLatencyList } from '../src/cli/sweep-command.js';
import { tempDir } from './helpers.js';

const root = path.resolve(__dirname, '..');
const DATASET = path.join(root, 'datasets/binance-2024-08-08');
const cli = (...args: string[]) => spawnSync('node', [path.join(root, 'bin/latencylab.js'), ...args], { encoding: 'utf8', cwd: root });

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
}, 120_000);

// One far-away limit buy per venue on its first valid book, cancelled as soon as it is accepted. It logs how
// long the new order and the cancel took to reach the exchange, and the response to come back, in ns.
const CANCEL_PROBE = `
export default {
  name: 'cancel-probe',
  description: 'times the order and cancel legs',
  params: {},
  venues: () => [
    { exchange: 'binance-spot', symbol: 'BTCUSDT' },
    { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
  ],
  create: () => {
    const started = new Set();
    const sent = new Map();
    const cancelSent = new Map();
    return {
      onBook(ctx, v) {
        if (started.has(v)) return;
        started.add(v);
        const id = ctx.submit({ venue: v, side: 1, type: 'limit', price: Math.floor(ctx.book(v).bestBid() * 0.5), size: 0.01 }); // 0.01: above USD-M's 100 USDT minimum value at half the bid
        sent.set(id, ctx.now());
      },
      onOrderUpdate(ctx, u) {
        if (u.status === 'accepted') {
          ctx.log('venue ' + u.venue + ' new ' + (u.exchangeTimeNs - sent.get(u.orderId)) + ' response ' + (ctx.now() - u.exchangeTimeNs));
          ctx.cancel(u.orderId);
          cancelSent.set(u.orderId, ctx.now());
        } else if (u.status === 'cancelled') {
          ctx.log('venue ' + u.venue + ' cancel ' + (u.exchangeTimeNs - cancelSent.get(u.orderId)) + ' response ' + (ctx.now() - u.exchangeTimeNs));
        }
      },
    };
  },
};
`;

describe("a venue's settings over the run-wide ones", () => {
  it('replace the run-wide setting of the same name only; the legs then resolve as for the run', () => {
    // The bug: a venue's order leg dropped the run-wide cancel leg.
    expect(venueLatencyOptions({ latency: '1ms', cancel: '300us' }, { order: '2ms' })).toEqual({ latency: '1ms', cancel: '300us', order: '2ms' });
    // A venue's own cancel wins over the run-wide one.
    expect(venueLatencyOptions({ latency: '1ms', cancel: '300us' }, { cancel: '700us' })).toEqual({ latency: '1ms', cancel: '700us' });
    // A venue's one-way latency replaces the run-wide one, not the run-wide legs.
    expect(venueLatencyOptions({ latency: '5ms', feed: 'recorded' }, { latency: '250us' })).toEqual({ latency: '250us', feed: 'recorded' });
    expect(venueLatencyOptions({ latency: '5ms' }, undefined)).toEqual({ latency: '5ms' });
  });

  it('end to end: the run-wide cancel leg still times the cancels of a venue that sets its own order leg', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'cancel-probe.mjs');
    fs.writeFileSync(file, CANCEL_PROBE);
    // What `replay --latency 1ms --cancel-latency 300us --venue-latency binance-usdm:order=2ms
    // --venue-latency binance-spot:cancel=700us` hands the engine.
    const cliOptions: RunCliOptions = {
      dataset: DATASET,
      strategy: file,
      cancelLatency: '300us',
      venueLatency: { 'binance-usdm': { order: '2ms' }, 'binance-spot': { cancel: '700us' } },
      queue: 'risk-averse',
      seed: 1,
    };
    const { result, summary } = await runOnce(toRunOptions(cliOptions, '1ms', {}));
    expect(summary.latency).toEqual([
      'binance-spot BTCUSDT: feed 1ms, order 1ms (cancel 700us), response 1ms',
      'binance-usdm BTCUSDT: feed 1ms, order 2ms (cancel 300us), response 1ms',
    ]);
    // Strategy times (ms since the data's first event). Spot: the ack of its order is seen at 2457.032 ms (1 ms
    // there, 1 ms back), the cancel sent then takes its own 700 us and the response 1 ms (2458.732 ms). USD-M:
    // the new order takes the venue's 2 ms and the cancel the run-wide 300 us (before the fix: 2 ms).
    expect(result.log).toEqual([
      '2457.032ms venue 0 new 1000000 response 1000000',
      '2458.732ms venue 0 cancel 700000 response 1000000',
      '3571.000ms venue 1 new 2000000 response 1000000',
      '3572.300ms venue 1 cancel 300000 response 1000000',
    ]);
  }, 60_000);

  it('the CLI states each venue\'s legs, the cancel leg included', () => {
    const r = cli('replay', '--strategy', 'perp-leads-spot', '--latency', '1ms', '--cancel-latency', '300us', '--venue-latency', 'binance-usdm:order=2ms', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).latency).toEqual([
      'binance-spot BTCUSDT: feed 1ms, order 1ms (cancel 300us), response 1ms',
      'binance-usdm BTCUSDT: feed 1ms, order 2ms (cancel 300us), response 1ms',
    ]);
  });
});

describe('sweep', () => {
  it('lists a cancel override among the fixed settings also when the order leg is fixed', () => {
    const out = path.join(tempDir(), 'sweep');
    const r = cli('sweep', '--strategy', 'market-maker', '--latency', '0,1ms', '--order-latency', '1ms', '--cancel-latency', '300us', '--workers', '1', '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  latency varies on legs: feed, response; fixed: order 1ms, cancel 300us\n');
    const grid = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).grid;
    expect(grid.legs).toEqual({ varying: ['feed', 'response'], fixed: { order: '1ms', cancel: '300us' } });
  }, 60_000);
});

describe('wrong latency options stop the command with exit code 2, naming the flag', () => {
  it.each([
    [
      ['replay', '--strategy', 'market-maker', '--venue-latency', 'foo:feed=1ms'],
      'latencylab: --venue-latency foo: the dataset has no venue "foo" (this run\'s venues: binance-usdm BTCUSDT; the dataset\'s: binance-spot, binance-usdm)\n',
    ],
    [
      ['replay', '--strategy', 'market-maker', '--venue-latency', 'binance-spot:feed=1ms'],
      'latencylab: --venue-latency binance-spot: it is in the dataset, but the strategy does not trade it (this run\'s venues: binance-usdm BTCUSDT; the dataset\'s: binance-spot, binance-usdm)\n',
    ],
    [['replay', '--strategy', 'market-maker', '--latency', '5m'], 'latencylab: --latency "5m": "m" would be minutes, which is not a latency unit; did you mean 5ms? (units: ns, us, ms, s)\n'],
    [['replay', '--strategy', 'market-maker', '--cancel-latency', '2h'], 'latencylab: --cancel-latency "2h": hours are not a latency unit (units: ns, us, ms, s)\n'],
    [['replay', '--strategy', 'market-maker', '--venue-latency', 'binance-usdm:feed=3min'], 'latencylab: --venue-latency binance-usdm:feed "3min": "min" would be minutes, which is not a latency unit; did you mean 3ms? (units: ns, us, ms, s)\n'],
    [['replay', '--strategy', 'market-maker', '--order-latency', 'recorded'], 'latencylab: --order-latency "recorded": recorded latency exists only for the feed leg (the dataset records market data delays, not order round trips); use a duration or lognormal\n'],
    [['replay', '--strategy', 'market-maker', '--venue-latency', 'binance-usdm=1ms'], /^latencylab: --venue-latency takes <exchange>:<leg>=<duration> with leg one of latency, feed, order, response, cancel, modify, got "binance-usdm=1ms"\n/],
    [['replay', '--strategy', 'market-maker', '--venue-latency', 'binance-usdm:feed=1ms', '--venue-latency', 'binance-usdm:feed=2ms'], 'latencylab: --venue-latency binance-usdm:feed given twice ("1ms", then "2ms")\n'],
    [['sweep', '--strategy', 'market-maker', '--latency', '0,1ms,5m', '--out', '/nonexistent/never-written'], 'latencylab: --latency "5m": "m" would be minutes, which is not a latency unit; did you mean 5ms? (units: ns, us, ms, s)\n'],
    [
      ['sweep', '--strategy', 'market-maker', '--latency', '0,1ms', '--venue-latency', 'okx-swap:order=1ms', '--out', '/nonexistent/never-written'],
      'latencylab: --venue-latency okx-swap: the dataset has no venue "okx-swap" (this run\'s venues: binance-usdm BTCUSDT; the dataset\'s: binance-spot, binance-usdm)\n',
    ],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    if (typeof message === 'string') expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('an error of the run itself still exits 1', () => {
    const r = cli('replay', '--strategy', 'market-maker', '--dataset', '/nonexistent/ds');
    expect(r.status).toBe(1);
  });

  it('checkLatencyOptions throws UsageError naming the setting, before any data is read', () => {
    expect(() => checkLatencyOptions({ latency: '1ms' }, { 'binance-usdm': { response: '5m' } })).toThrow(UsageError);
    expect(() => checkLatencyOptions({ modify: '-1ms' }, undefined)).toThrow('--modify-latency "-1ms": a latency cannot be negative');
    expect(() => checkLatencyOptions({ latency: 'lognormal:p50=1ms,p99=5m' }, undefined)).toThrow('--latency p99 "5m": "m" would be minutes');
    expect(() => checkLatencyOptions({ latency: '1ms', feed: 'recorded', cancel: '250µs' }, { x: { latency: '2s' } })).not.toThrow();
  });

  it('sweep latency lists take the same units', () => {
    expect(() => parseLatencyList('0,250us,250µs')).toThrow('--latency: "250us" and "250µs" are the same latency');
    expect(parseLatencyList('1s,0,500ns,1.5ms').map((l) => l.ns)).toEqual([0, 500, 1_500_000, 1_000_000_000]);
    expect(() => parseLatencyList('0,1m')).toThrow('--latency "1m": "m" would be minutes, which is not a latency unit; did you mean 1ms?');
  });
});
