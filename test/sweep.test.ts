// latencylab sweep, run as users run it (the compiled CLI in a child process) on the bundled dataset:
// the grid, results.arrow / results.csv / summary.json, worker-count independence, the self-contained
// report page (opened in headless Chromium) and the one-line errors.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { tempDir } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const DATASET = 'datasets/binance-2024-08-08';
const CHROMIUM = '/usr/bin/chromium';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/latencylab.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The small grid of the tests: 2 latencies × fast ∈ {5, 10} = 4 points. */
const GRID = ['sweep', '--dataset', DATASET, '--strategy', 'ma-crossover', '--latency', '0,1ms', '--param', 'fast=5,10'];

function parseCsv(text: string): string[][] {
  // The sweep's CSV has no quoted fields for this strategy's parameters.
  return text.trimEnd().split('\n').map((l) => l.split(','));
}

beforeAll(() => {
  // npm test builds first; a bare `vitest run` may not have, so build when the compiled sweep is older than its source.
  const built = path.join(ROOT, 'dist/src/cli/sweep-command.js');
  const sources = ['src/cli/sweep-command.ts', 'src/cli/sweep-worker.ts', 'src/report/sweep-results.ts', 'src/report/sweep-html.ts'];
  const stale = !fs.existsSync(built) || sources.some((s) => fs.statSync(path.join(ROOT, s)).mtimeMs > fs.statSync(built).mtimeMs);
  if (stale) execFileSync('npx', ['tsc', '-p', ROOT], { cwd: ROOT, stdio: 'ignore' });
});

describe('latencylab sweep', () => {
  const out2 = tempDir('latencylab-sweep-w2-');
  const out1 = tempDir('latencylab-sweep-w1-');
  let run2: ReturnType<typeof cli>;

  beforeAll(() => {
    run2 = cli(...GRID, '--workers', '2', '--out', out2);
  });

  it('runs the grid and says where the report is', () => {
    expect(run2.stderr).not.toMatch(/latencylab:/);
    expect(run2.code).toBe(0);
    expect(run2.stdout).toContain('4 point(s) = 2 latencies (0, 1ms) × 2 parameter set(s) (varying fast); 2 worker(s)');
    expect(run2.stdout).toContain('latency varies on legs: feed, order, response');
    expect(run2.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${path.join(out2, 'report.html')}`);
    // The progress bar goes to stderr (line mode when it is not a terminal), never into stdout.
    expect(run2.stderr).toMatch(/sweep \[.*\] 4\/4 points/);
    expect(run2.stdout).not.toMatch(/sweep \[/);
  });

  it('writes results.csv: one row per point, parameters and metrics as columns', () => {
    const rows = parseCsv(fs.readFileSync(path.join(out2, 'results.csv'), 'utf8'));
    expect(rows).toHaveLength(5);
    const [head, ...body] = rows;
    expect(head).toEqual([
      'point', 'latency', 'latency_ns', 'symbol', 'exchange', 'sampleMs', 'fast', 'slow', 'size',
      'gross_pnl', 'net_pnl', 'fees_paid', 'orders', 'fills', 'fill_ratio', 'maker_share', 'taker_share',
      'traded_volume', 'max_drawdown', 'sharpe', 'markout_bps', 'maker_markout_bps', 'events',
    ]);
    const col = (name: string) => body.map((r) => r[head!.indexOf(name)]);
    expect(col('point')).toEqual(['0', '1', '2', '3']);
    // Parameter sets outermost, latencies ascending within each.
    expect(col('fast')).toEqual(['5', '5', '10', '10']);
    expect(col('latency')).toEqual(['0', '1ms', '0', '1ms']);
    expect(col('latency_ns')).toEqual(['0', '1000000', '0', '1000000']);
    expect(col('slow')).toEqual(['60', '60', '60', '60']);
    for (const r of body) {
      const v = (name: string) => Number(r[head!.indexOf(name)]);
      expect(v('events')).toBeGreaterThan(100_000);
      expect(v('fills')).toBeGreaterThan(0);
      // gross = net + fees, to the 6 decimals the summary keeps.
      expect(Math.abs(v('gross_pnl') - v('net_pnl') - v('fees_paid'))).toBeLessThan(2e-6);
    }
    // ma-crossover trades with market orders only: every fill takes liquidity.
    expect(col('fills')).toEqual(['9', '9', '6', '6']);
    expect(col('maker_share')).toEqual(['0', '0', '0', '0']);
    expect(col('taker_share')).toEqual(['1', '1', '1', '1']);
  });

  it('writes results.arrow (IPC stream) with the same numbers as the CSV', () => {
    const table = tableFromIPC(fs.readFileSync(path.join(out2, 'results.arrow')));
    const [head, ...body] = parseCsv(fs.readFileSync(path.join(out2, 'results.csv'), 'utf8'));
    expect(table.numRows).toBe(4);
    expect(table.schema.fields.map((f) => f.name)).toEqual(head);
    for (const [c, name] of head!.entries()) {
      const vector = table.getChild(name)!;
      for (let i = 0; i < body.length; i++) {
        const a = vector.get(i) as unknown;
        const csv = body[i]![c]!;
        if (typeof a === 'number') expect(a).toBe(Number(csv));
        else expect(String(a)).toBe(csv);
      }
    }
    expect(String(table.schema.fields.find((f) => f.name === 'net_pnl')!.type)).toBe('Float64');
    expect(String(table.schema.fields.find((f) => f.name === 'fills')!.type)).toBe('Int32');
    expect(String(table.schema.fields.find((f) => f.name === 'latency')!.type)).toBe('Utf8');
  });

  it('writes summary.json: the grid, break-even per parameter set and every point\'s run summary', () => {
    const s = JSON.parse(fs.readFileSync(path.join(out2, 'summary.json'), 'utf8'));
    const csv = parseCsv(fs.readFileSync(path.join(out2, 'results.csv'), 'utf8'));
    expect(s.dataset).toBe(DATASET);
    expect(s.strategy).toBe('ma-crossover');
    expect(s.seed).toBe(1);
    expect(s.queue).toBe('risk-averse');
    expect(s.grid.latencies).toEqual([{ text: '0', ns: 0 }, { text: '1ms', ns: 1_000_000 }]);
    expect(s.grid.varying_params).toEqual(['fast']);
    expect(s.grid.param_sets).toEqual([{ fast: '5' }, { fast: '10' }]);
    expect(s.grid.legs).toEqual({ varying: ['feed', 'order', 'response'], fixed: {} });
    expect(s.grid.points).toEqual([
      { index: 0, param_set: 0, latency: 0 },
      { index: 1, param_set: 0, latency: 1 },
      { index: 2, param_set: 1, latency: 0 },
      { index: 3, param_set: 1, latency: 1 },
    ]);
    expect(s.points).toHaveLength(4);
    s.points.forEach((p: { index: number; latency: string; summary: Record<string, unknown> & { params: Record<string, unknown>; latency: string[] } }, i: number) => {
      expect(p.index).toBe(i);
      expect(p.summary.strategy).toBe('ma-crossover');
      expect(p.summary.params.fast).toBe(i < 2 ? 5 : 10);
      expect(p.summary.seed).toBe(1);
      expect(p.summary.queue_model).toBe('risk-averse');
      expect(p.summary.fill_rule).toBe('conservative');
      expect(p.summary.currency).toBe('USDT');
      expect(p.summary.reconciled).toBe(true);
      expect(p.summary.latency).toEqual([`binance-usdm BTCUSDT: feed ${p.latency}, order ${p.latency}, response ${p.latency}`]);
      const row = csv[i + 1]!;
      expect(p.summary.net_pnl).toBe(Number(row[csv[0]!.indexOf('net_pnl')]));
      expect(p.summary.fills).toBe(Number(row[csv[0]!.indexOf('fills')]));
    });
    expect(s.break_even).toHaveLength(2);
    expect(s.break_even.map((b: { label: string }) => b.label)).toEqual(['fast=5', 'fast=10']);
    // ma-crossover loses its fees at every point (net < 0 at latency 0) and keeps a positive gross PnL up to 1ms.
    expect(s.points.map((p: { summary: { net_pnl: number; gross_pnl: number } }) => [p.summary.net_pnl, p.summary.gross_pnl])).toEqual([
      [-2.404238, 0.9903],
      [-2.404238, 0.9903],
      [-2.665099, 0.7295],
      [-2.665099, 0.7295],
    ]);
    const atLowest = { kind: 'at_lowest', latency_ns: 0, text: 'already negative at the lowest latency (0)' };
    const grossNever = { kind: 'never', latency_ns: null, text: 'never (gross PnL > 0 up to 1ms)' };
    expect(s.break_even).toEqual([
      { param_set: 0, label: 'fast=5', net: atLowest, gross: grossNever },
      { param_set: 1, label: 'fast=10', net: atLowest, gross: grossNever },
    ]);
    // Binance exchange times are in ms; 0 and 1ms are one resolution apart, so no warning.
    expect(s.exchange_time_resolution).toEqual([{ exchange: 'binance-usdm', symbol: 'BTCUSDT', resolution_ns: 1_000_000 }]);
    expect(s.resolution_warnings).toEqual([]);
  });

  it('gives byte-identical results with 1 and 2 workers', () => {
    const run1 = cli(...GRID, '--workers', '1', '--out', out1);
    expect(run1.code).toBe(0);
    expect(run1.stdout).toContain('1 worker(s)');
    for (const f of ['results.csv', 'results.arrow', 'summary.json', 'report.html']) {
      expect(fs.readFileSync(path.join(out1, f)).equals(fs.readFileSync(path.join(out2, f))), f).toBe(true);
    }
  });

  it('writes a self-contained report.html: uPlot inlined, nothing loaded from the network', () => {
    const html = fs.readFileSync(path.join(out2, 'report.html'), 'utf8');
    const uplotJs = fs.readFileSync(path.join(ROOT, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'utf8');
    const uplotCss = fs.readFileSync(path.join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8');
    expect(html).toContain(uplotJs.trim());
    expect(html).toContain(uplotCss.trim());
    expect(html).not.toMatch(/<script[^>]*\ssrc\s*=/i);
    expect(html).not.toMatch(/<link[^>]*\shref\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<(img|iframe)[^>]*\ssrc\s*=\s*["']?https?:/i);
    // The facts every reader needs: latencies with units, dataset, strategy, seed, queue model, fees.
    expect(html).toContain('0, 1ms (one-way');
    expect(html).toContain(DATASET);
    expect(html).toContain('ma-crossover');
    expect(html).toMatch(/<td>Seed<\/td><td>1<\/td>/);
    expect(html).toMatch(/<td>Queue model<\/td><td>risk-averse<\/td>/);
    expect(html).toContain('binance-usdm: maker 0.02%, taker 0.05%');
    expect(html).toContain('Break-even latency');
  });

  it.skipIf(!fs.existsSync(CHROMIUM) && !process.env.CI)('renders in headless Chromium: both charts, no console errors, no requests', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!/^(file|data):/.test(r.url())) requests.push(r.url());
      });
      await page.goto(`file://${path.join(out2, 'report.html')}`);
      await page.waitForSelector('#chart-pnl canvas');
      expect(await page.locator('#chart-pnl canvas').count()).toBe(1);
      expect(await page.locator('#chart-fills canvas').count()).toBe(1);
      const box = await page.locator('#chart-pnl canvas').boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      // The x axis is labelled at the swept latencies, with units (uPlot draws the labels on the canvas).
      const labels = await page.evaluate(() => JSON.parse(document.getElementById('sweep-data')!.textContent!).x_labels);
      expect(labels).toEqual(['0', '1ms']);
      expect(await page.locator('table.grid tr').count()).toBe(1 + 2 + 1 + 4);
      await page.screenshot({ path: '/tmp/sweep-report.png', fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('prints JSON with --json', () => {
    const out = tempDir('latencylab-sweep-json-');
    const r = cli(...GRID, '--workers', '2', '--out', out, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.report).toBe(path.join(out, 'report.html'));
    expect(j.workers).toBe(2);
    expect(j.results).toHaveLength(4);
    expect(j.results.map((x: { fast: number }) => x.fast)).toEqual([5, 5, 10, 10]);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe(fs.readFileSync(path.join(out2, 'results.csv'), 'utf8'));
    expect(j.exchange_time_resolution).toEqual([{ exchange: 'binance-usdm', symbol: 'BTCUSDT', resolution_ns: 1_000_000 }]);
    expect(j.resolution_warnings).toEqual([]);
  });

  it('warns next to latencies closer together than the exchange-time resolution (text, --json, summary.json, report.html)', () => {
    const out = tempDir('latencylab-sweep-res-');
    const args = ['sweep', '--dataset', DATASET, '--strategy', 'ma-crossover', '--latency', '0,100us,500us,1ms,2ms', '--workers', '1'];
    const r = cli(...args, '--out', out);
    expect(r.code).toBe(0);
    const text = '0 and 100us differ by 100us, less than the exchange-time resolution (1ms on binance-usdm BTCUSDT): ' +
      'the data cannot tell these latencies apart, and their results may be identical';
    expect(r.stdout).toContain(`  warning: ${text}\n`);
    expect(r.stdout.match(/^ {2}warning: /gm)).toHaveLength(3);
    // The points inside a warning are marked "*" beside their latency: 0, 100us, 500us, 1ms, not 2ms.
    const marked = r.stdout.split('\n').filter((l) => /^\s+\d+ {2}\S+ \*/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(marked).toEqual(['0', '100us', '500us', '1ms']);
    expect(r.stdout).toMatch(/^\s+4 {2}2ms {3}/m);
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(s.resolution_warnings.map((w: { low: string; high: string; resolution_ns: number; venues: string[] }) => [w.low, w.high, w.resolution_ns, w.venues])).toEqual([
      ['0', '100us', 1_000_000, ['binance-usdm BTCUSDT']],
      ['100us', '500us', 1_000_000, ['binance-usdm BTCUSDT']],
      ['500us', '1ms', 1_000_000, ['binance-usdm BTCUSDT']],
    ]);
    expect(s.resolution_warnings[0].text).toBe(text);
    // Identical results, as the warning says, at 0, 100us and 500us.
    const nets = s.points.map((p: { summary: { net_pnl: number } }) => p.summary.net_pnl);
    expect(nets[1]).toBe(nets[0]);
    expect(nets[2]).toBe(nets[0]);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Resolution warnings</h2>');
    expect(html.match(/<li class="res-warn">/g)).toHaveLength(3);
    expect(html.match(/⚠ below resolution<\/span>/g)).toHaveLength(4);
    expect(html).toContain('<td>Exchange-time resolution</td><td>binance-usdm BTCUSDT: 1ms</td>');
    const j = JSON.parse(cli(...args, '--out', tempDir('latencylab-sweep-res-json-'), '--json').stdout);
    expect(j.resolution_warnings).toEqual(s.resolution_warnings);
  });

  it('--fill-rule optimistic reaches every point (workers run it too), and a bad rule fails before any work', () => {
    const out = tempDir('latencylab-sweep-fill-');
    const r = cli('sweep', '--dataset', DATASET, '--strategy', 'market-maker', '--latency', '0,1ms', '--fill-rule', 'optimistic', '--workers', '2', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fill rule optimistic');
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(s.points.map((p: { summary: { fill_rule: string; fills: number } }) => [p.summary.fill_rule, p.summary.fills])).toEqual([
      ['optimistic', 109],
      ['optimistic', 105],
    ]);
    const bad = cli('sweep', '--dataset', DATASET, '--strategy', 'market-maker', '--latency', '0', '--fill-rule', 'nope', '--out', tempDir());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--fill-rule must be one of conservative, optimistic, got "nope"');
  });

  it('fixes a leg given on its own and says which legs vary', () => {
    const out = tempDir('latencylab-sweep-legs-');
    const r = cli('sweep', '--dataset', DATASET, '--strategy', 'ma-crossover', '--latency', '0,5ms', '--feed-latency', 'recorded', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('latency varies on legs: order, response; fixed: feed recorded');
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(s.points[1].summary.latency[0]).toMatch(/^binance-usdm BTCUSDT: feed recorded \(recorder clock .* drifting .*\/h removed\), order 5ms, response 5ms$/);
  });

  it('npm start: the bundled perp-leads-spot sweep over six latencies', () => {
    const start: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
    const args = start.split(/\s+/);
    expect(args.slice(0, 3)).toEqual(['node', 'bin/latencylab.js', 'sweep']);
    const out = tempDir('latencylab-sweep-start-');
    args[args.indexOf('--out') + 1] = out;
    const r = cli(...args.slice(2));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('6 latencies (0, 250us, 1ms, 5ms, 10ms, 50ms) × 1 parameter set(s)');
    expect(r.stdout).toMatch(/break-even latency/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${path.join(out, 'report.html')}`);
    const rows = parseCsv(fs.readFileSync(path.join(out, 'results.csv'), 'utf8'));
    expect(rows.map((row) => row[1])).toEqual(['latency', '0', '250us', '1ms', '5ms', '10ms', '50ms']);
    const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(s.points[0].summary.venues).toEqual(['binance-spot BTCUSDT', 'binance-usdm BTCUSDT']);
    expect(s.points.every((p: { summary: { orders: number } }) => p.summary.orders > 0)).toBe(true);
  });

  describe('errors: one line on stderr, non-zero exit, nothing run', () => {
    const out = tempDir('latencylab-sweep-err-');
    const cases: [string, string[], RegExp][] = [
      ['unknown strategy', ['--strategy', 'nope', '--latency', '0,1ms'], /unknown strategy "nope"/],
      ['unknown parameter', ['--strategy', 'ma-crossover', '--latency', '0', '--param', 'bogus=1,2'], /unknown parameter "bogus"/],
      ['bad parameter value', ['--strategy', 'ma-crossover', '--latency', '0', '--param', 'fast=5,abc'], /parameter set fast=abc: parameter "fast" must be a number, got "abc"/],
      ['parameters the strategy refuses', ['--strategy', 'ma-crossover', '--latency', '0', '--param', 'fast=70'], /parameter "fast" \(70\) must be below "slow" \(60\)/],
      ['bad unit', ['--strategy', 'ma-crossover', '--latency', '0,5xs'], /--latency "5xs": unknown unit "xs"/],
      ['duration without unit', ['--strategy', 'ma-crossover', '--latency', '0,5'], /--latency "5": has no unit \(use ns, us, ms or s, e.g. 5ms\)/],
      ['repeated latency', ['--strategy', 'ma-crossover', '--latency', '1ms,1000us'], /"1ms" and "1000us" are the same latency/],
      ['bad --workers', ['--strategy', 'ma-crossover', '--latency', '0', '--workers', '0'], /--workers must be a whole number >= 1/],
    ];
    for (const [name, args, message] of cases) {
      it(name, () => {
        const r = cli('sweep', '--dataset', DATASET, ...args, '--out', out);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('latencylab:') || /error/i.test(l)).length).toBeGreaterThanOrEqual(1);
        expect(fs.existsSync(path.join(out, 'results.csv'))).toBe(false);
      });
    }
    it('missing dataset', () => {
      const r = cli('sweep', '--dataset', '/nonexistent/dataset', '--strategy', 'ma-crossover', '--latency', '0', '--out', out);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('latencylab: dataset not found: /nonexistent/dataset');
    });
    it('unknown strategy is one line', () => {
      const r = cli('sweep', '--dataset', DATASET, '--strategy', 'nope', '--latency', '0', '--out', out);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^latencylab: unknown strategy "nope" \(built in: .*ma-crossover.*\)/);
    });
  });
});
