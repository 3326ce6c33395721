// latencylab audit (src/audit/audit.ts, src/cli/audit-command.ts): each rule on a hand-made dataset with
// hand-made fills and exact counts, then end to end on the bundled dataset through the compiled CLI.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { openDataset } from '../src/data/reader.js';
import { EventKind, Flag } from '../src/data/types.js';
import { NS_PER_S } from '../src/data/time.js';
import { auditRun, type AuditFill } from '../src/audit/audit.js';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { tempDir } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const T0 = 1_723_161_600n * NS_PER_S;
const MS = 1_000_000;

/**
 * binance-usdm BTCUSDT, received 2 ms after its exchange time (the recorder's offset is 2 ms):
 * BBO 100/101 at 10 ms, 102/103 at 20 and 30 ms, a sell print at 99 at 41 ms, 100/101 at 50 ms.
 * binance-spot BTCUSDT: BBO rows without exchange time and one trade received 5 ms after its exchange time. One
 * recorder received both: its clock offset is the lower envelope over every stream, 2 ms (not 5 ms for spot).
 */
function dataset(): string {
  const dir = path.join(tempDir('latencylab-audit-'), 'ds');
  const w = new DatasetWriter(dir);
  const usdm = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
  const spot = w.stream({ exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' });
  let id = 1n;
  const at = (ms: number) => T0 + BigInt(ms * MS);
  const bbo = (s: number, ms: number, bid: number, ask: number, local = ms + 2, flags = 0) => {
    w.event(s, at(local), flags ? at(local) : at(ms), EventKind.BestBidOffer, 1, bid, 1, id, id - 1n, flags);
    w.event(s, at(local), flags ? at(local) : at(ms), EventKind.BestBidOffer, -1, ask, 1, id, id - 1n, flags | Flag.MessageEnd);
    id++;
  };
  const trade = (s: number, ms: number, aggressor: number, price: number, local = ms + 2) => {
    w.event(s, at(local), at(ms), EventKind.Trade, aggressor, price, 1, id, id - 1n, Flag.MessageEnd);
    id++;
  };
  bbo(usdm, 10, 100, 101);
  bbo(usdm, 20, 102, 103);
  bbo(usdm, 30, 102, 103);
  trade(usdm, 41, -1, 99); // at 41 ms: the times' resolution is 1 ms
  bbo(usdm, 50, 100, 101);
  // spot: its quotes (no exchange time, local 15 and 25 ms) land at local − 2 ms: 13 ms and 23 ms.
  trade(spot, 1, 1, 200, 6);
  bbo(spot, 0, 200, 201, 15, Flag.NoExchangeTime);
  bbo(spot, 0, 200, 201, 25, Flag.NoExchangeTime);
  w.close();
  return dir;
}

const fill = (venue: number, side: number, price: number, size: number, maker: boolean, ms: number, midAfter: number, arrivedMs = ms): AuditFill => ({
  venue,
  side,
  price,
  size,
  maker,
  exchNs: ms * MS,
  orderArrivedNs: arrivedMs * MS,
  midAfter,
});

describe('auditRun() on a hand-made dataset', () => {
  const ds = openDataset(dataset());
  const venues = [
    { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
    { exchange: 'binance-spot', symbol: 'BTCUSDT' },
  ];

  it('flags a taker fill only when the quote on its side had left its price both before and after it', () => {
    const fills = [
      fill(0, 1, 101, 1, false, 25, 102), // ask 103 at 20 and 30 ms: questionable, PnL +1
      fill(0, 1, 103, 1, false, 25, 102), // at the ask: fine
      fill(0, 1, 101, 1, false, 35, 102), // ask 103 before, 101 after: fine
      fill(0, -1, 102, 1, false, 25, 102), // at the bid: fine
      fill(0, -1, 103, 2, false, 25, 102), // bid 102 before and after: questionable, PnL +2
      fill(0, 1, 101, 1, false, 5, 102), // no quote before it: not checked
      fill(0, 1, 101, 1, false, 20, NaN), // a quote at its very time counts as before (103), then 103: questionable, PnL unknown
    ];
    const r = auditRun(ds, venues, fills, 2);
    const v = r.venues[0]!;
    expect(v.venue).toBe('binance-usdm BTCUSDT');
    expect(v.resolution_ns).toBe(MS);
    expect(r.recorder_clock).toBe('offset 2.000 ms → 2.000 ms, drift +0.00 ms/h (1 window of 10 s)');
    expect(v.bbo_rows).toBe(4);
    expect([v.taker_fills, v.taker_checked, v.questionable_taker]).toEqual([7, 6, 3]);
    expect(v.questionable_taker_share).toBe(3 / 7);
    expect(v.questionable_taker_pnl).toBe(3);
    expect(v.pnl_unknown).toBe(1);
    expect(v.taker_examples).toEqual([
      { fill: 0, side: 'buy', price: 101, size: 1, exch_ns: 25 * MS, before: 103, before_ns: 20 * MS, after: 103, after_ns: 30 * MS, pnl: 1 },
      { fill: 4, side: 'sell', price: 103, size: 2, exch_ns: 25 * MS, before: 102, before_ns: 20 * MS, after: 102, after_ns: 30 * MS, pnl: 2 },
    ]);
    expect(r.questionable_taker).toBe(3);
    expect(r.unsupported_maker).toBe(0);
    expect(r.flagged_pnl).toBe(3);
    // total: +1 +1(103 buy: 102−103 = −1) ... every fill marked: 1 − 1 + 1 + 0 + 2 + 1 + 0
    expect(r.total_pnl).toBe(4);
  });

  it('flags a maker fill with no print at or through its price and no quote through it between arrival and fill + resolution', () => {
    const fills = [
      fill(0, 1, 99.5, 1, true, 45, 100, 32), // the print at 99 (41 ms) went through 99.5: supported
      fill(0, 1, 98, 1, true, 45, 100, 32), // print 99 > 98, asks 103/101 > 98: unsupported, PnL +2
      fill(0, -1, 102, 1, true, 18, 101, 15), // the bid reaches 102 at 20 ms, after 18 + 1 ms: unsupported, PnL +1
      fill(0, -1, 102, 1, true, 19, 101, 15), // within the 1 ms tolerance: supported
      fill(0, -1, 104, 0.5, true, 60, 101.5, 0), // bids <= 102, print 99: unsupported, PnL +1.25
      fill(0, 1, 101, 1, true, 12, 100, 0), // the ask at 101 (10 ms) is at its price: supported
    ];
    const r = auditRun(ds, venues, fills);
    const v = r.venues[0]!;
    expect([v.maker_fills, v.unsupported_maker, v.taker_fills]).toEqual([6, 3, 0]);
    expect(v.unsupported_maker_share).toBe(0.5);
    expect(v.unsupported_maker_pnl).toBe(4.25);
    expect(v.maker_examples.map((e) => [e.fill, e.side, e.price, e.order_arrived_ns, e.exch_ns])).toEqual([
      [1, 'buy', 98, 32 * MS, 45 * MS],
      [2, 'sell', 102, 15 * MS, 18 * MS],
      [4, 'sell', 104, 0, 60 * MS],
    ]);
    expect(r.flagged_pnl).toBe(4.25);
  });

  it("places quotes without an exchange time at local time − the recorder clock's offset (one model over every stream)", () => {
    // spot quotes at 13 and 23 ms (local 15 and 25 − 2 ms, the usdm rows' offset): a buy at 200 at 14 ms is below
    // ask 201 before and after; at 12 ms no quote was before it yet (with spot's own 5 ms offset it would be 10 ms).
    const r = auditRun(ds, venues, [fill(1, 1, 200, 1, false, 14, 201), fill(1, 1, 200, 1, false, 12, 201)]);
    const v = r.venues[1]!;
    expect(v.bbo_rows).toBe(2);
    expect([v.taker_fills, v.taker_checked, v.questionable_taker]).toEqual([2, 1, 1]);
    expect(v.taker_examples[0]!.before_ns).toBe(13 * MS);
    expect(v.taker_examples[0]!.after_ns).toBe(23 * MS);
  });
});

/** A run folder made by hand over the hand-made dataset: run.json, orders.arrow and fills.arrow as replay --out writes them. */
function handMadeRun(fills: AuditFill[]): string {
  const out = tempDir('latencylab-audit-run-');
  const ds = dataset();
  const abs = (rel: number) => T0 + BigInt(rel);
  const ids = Int32Array.from(fills.map((_, i) => i + 1));
  const orders = tableFromArrays({ order_id: ids, arrived_ts_ns: BigInt64Array.from(fills.map((f) => abs(f.orderArrivedNs))) });
  const table = tableFromArrays({
    order_id: ids,
    venue: Uint8Array.from(fills.map((f) => f.venue)),
    side: Int8Array.from(fills.map((f) => f.side)),
    price: Float64Array.from(fills.map((f) => f.price)),
    size: Float64Array.from(fills.map((f) => f.size)),
    maker: fills.map((f) => f.maker),
    exch_ts_ns: BigInt64Array.from(fills.map((f) => abs(f.exchNs))),
    mid_after: Float64Array.from(fills.map((f) => f.midAfter)),
  });
  fs.writeFileSync(path.join(out, 'orders.arrow'), tableToIPC(orders, 'stream'));
  fs.writeFileSync(path.join(out, 'fills.arrow'), tableToIPC(table, 'stream'));
  const run = {
    format: 'latencylab-run',
    dataset: ds,
    strategy: 'hand-made',
    params: {},
    venues: [
      { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
      { exchange: 'binance-spot', symbol: 'BTCUSDT' },
    ],
    latency: '1ms',
    seed: 1,
    queue: 'risk-averse',
    fill_rule: 'optimistic',
    markout_horizon_ms: 1000,
  };
  fs.writeFileSync(path.join(out, 'run.json'), JSON.stringify(run));
  return out;
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('latencylab audit on the bundled dataset (1 ms)', () => {
  beforeAll(() => {
    const built = path.join(ROOT, 'dist/src/cli/audit-command.js');
    const sources = ['src/cli/audit-command.ts', 'src/audit/audit.ts', 'src/cli/replay-command.ts'];
    const stale = !fs.existsSync(built) || sources.some((s) => fs.statSync(path.join(ROOT, s)).mtimeMs > fs.statSync(built).mtimeMs);
    if (stale) execFileSync('npx', ['tsc', '-p', ROOT], { cwd: ROOT, stdio: 'ignore' });
  });

  it('perp-leads-spot: none of its 40 spot taker fills is at a price the quote had left (25 of 57 before the real-time touch)', () => {
    const out = tempDir('latencylab-audit-pls-');
    const r = cli('replay', '--dataset', 'datasets/binance-2024-08-08', '--strategy', 'perp-leads-spot', '--latency', '1ms', '--out', out, '--audit');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('taker fills 40 (40 with a quote before and after): 0 questionable (0.0%), PnL 0.0000');
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.venues).toEqual([
      { exchange: 'binance-spot', symbol: 'BTCUSDT' },
      { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
    ]);
    expect(run.latency).toBe('1ms');
    const j = cli('audit', out, '--json', '--examples', '2');
    expect(j.code).toBe(0);
    const a = JSON.parse(j.stdout);
    expect(a.fills).toBe(40);
    expect(a.questionable_taker).toBe(0);
    expect(a.unsupported_maker).toBe(0);
    expect(a.flagged_pnl).toBe(0);
    expect(a.venues[0].taker_examples).toEqual([]);
    expect(a.venues[0].resolution_ns).toBe(1_000_000);
    // A clean run passes --strict.
    expect(cli('audit', out, '--strict').code).toBe(0);
  }, 60_000);

  it('market-maker: 180 maker fills, none unsupported', () => {
    const out = tempDir('latencylab-audit-mm-');
    expect(cli('replay', '--dataset', 'datasets/binance-2024-08-08', '--strategy', 'market-maker', '--latency', '1ms', '--out', out).code).toBe(0);
    const r = cli('audit', out, '--strict');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('maker fills 180: 0 unsupported (0.0%), PnL 0.0000');
  }, 60_000);

  it('--strict exits 1 on a run with a questionable taker fill or an unsupported maker fill, 0 on a clean one', () => {
    const questionable = handMadeRun([fill(0, 1, 101, 1, false, 25, 102), fill(0, 1, 103, 1, false, 25, 102)]);
    const strict = cli('audit', questionable, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('fill rule optimistic, 2 fill(s)');
    expect(strict.stdout).toContain('recorder clock: offset 2.000 ms → 2.000 ms, drift +0.00 ms/h (1 window of 10 s)');
    expect(strict.stdout).toContain('taker fills 2 (2 with a quote before and after): 1 questionable (50.0%), PnL 1.0000');
    // without --strict the audit only reports
    expect(cli('audit', questionable).code).toBe(0);
    const unsupported = handMadeRun([fill(0, 1, 98, 1, true, 45, 100, 32)]);
    const u = cli('audit', unsupported, '--strict', '--json');
    expect(u.code).toBe(1);
    expect(JSON.parse(u.stdout).unsupported_maker).toBe(1);
    const clean = handMadeRun([fill(0, 1, 103, 1, false, 25, 102), fill(0, 1, 99.5, 1, true, 45, 100, 32)]);
    const c = cli('audit', clean, '--strict');
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('0 questionable (0.0%)');
    expect(c.stdout).toContain('maker fills 1: 0 unsupported (0.0%)');
  }, 60_000);

  it('refuses a folder without run.json', () => {
    const r = cli('audit', tempDir('latencylab-audit-empty-'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a run folder \(no run.json/);
  });
});
