// latencylab sweep: one strategy over a grid of latencies × parameter values. The market data is decoded
// once per worker thread and every point of that worker is simulated over it; results are sorted by point
// index, so the output does not depend on the number of workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { checkLatencyOptions, checkLatencyVenues, createStrategy, prepare, UsageError, type PreparedRun } from '../engine/session.js';
import { openDataset } from '../data/reader.js';
import { ensureUnpacked } from '../data/segments.js';
import { parseLatencyDurationNs } from '../simulation/latency.js';
import { parseQueueModel } from '../simulation/queue.js';
import { parseFees } from '../simulation/fees.js';
import { parseRateLimit } from '../simulation/rate-limit.js';
import { addRunOptions, toRunOptions, type RunCliOptions } from './replay-command.js';
import { runPoints, type SweepTask, type SweepWorkerData, type WorkerMessage } from './sweep-worker.js';
import {
  breakEvens,
  latencyText,
  resultColumns,
  toArrowIPC,
  toCsv,
  type ParamType,
  type SweepGrid,
  type SweepLatency,
  type SweepPointResult,
  type SweepSummaryFile,
} from '../report/sweep-results.js';
import { renderSweepReport } from '../report/sweep-html.js';
import { exchangeTimeResolutions, resolutionWarnings } from '../report/resolution.js';

export interface SweepCliOptions extends RunCliOptions {
  latency: string;
  out: string;
  workers?: number;
  json?: boolean;
}

/** "0,250us,1ms" into ascending constant latencies; each must be a duration with a unit (a bare 0 is allowed). */
export function parseLatencyList(text: string): SweepLatency[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--latency "${text}": an empty entry (write a comma-separated list, e.g. 0,250us,1ms,5ms)`);
  const out = parts.map((s) => {
    try {
      return { text: s, ns: parseLatencyDurationNs(s, '--latency') };
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  out.sort((a, b) => a.ns - b.ns);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.ns === out[i - 1]!.ns) throw new UsageError(`--latency: "${out[i - 1]!.text}" and "${out[i]!.text}" are the same latency`);
  }
  return out;
}

/** --param k=v1,v2 lists into the cartesian product, the first parameter outermost. */
export function paramGrid(params: Record<string, string>): { sets: Record<string, string>[]; varying: string[] } {
  let sets: Record<string, string>[] = [{}];
  const varying: string[] = [];
  for (const [k, list] of Object.entries(params)) {
    if (k === '') throw new Error(`--param takes name=value[,value...], got "=${list}"`);
    const values = list.split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new Error(`--param ${k}="${list}": an empty value (write ${k}=v1,v2,...)`);
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) throw new Error(`--param ${k}: value "${dup}" given twice`);
    if (values.length > 1) varying.push(k);
    sets = sets.flatMap((s) => values.map((v) => ({ ...s, [k]: v })));
  }
  return { sets, varying };
}

/** Which legs the swept latency sets, and the overrides that fix the others. */
function sweptLegs(o: SweepCliOptions): SweepGrid['legs'] {
  const fixed: Record<string, string> = {};
  const varying: string[] = [];
  const legs: [string, string | undefined][] = [
    ['feed', o.feedLatency],
    ['order', o.orderLatency],
    ['response', o.responseLatency],
  ];
  for (const [leg, v] of legs) {
    if (v === undefined) varying.push(leg);
    else fixed[leg] = v;
  }
  // cancel / modify overrides fix those operations of the order leg, whether the leg is swept or fixed.
  if (o.cancelLatency !== undefined) fixed['cancel'] = o.cancelLatency;
  if (o.modifyLatency !== undefined) fixed['modify'] = o.modifyLatency;
  if (varying.length === 0) {
    throw new Error('--feed-latency, --order-latency and --response-latency fix every leg, so --latency would change nothing: leave at least one out');
  }
  return { varying, fixed };
}

function workerFile(): URL {
  const own = fileURLToPath(import.meta.url);
  if (own.endsWith('.js')) return new URL('./sweep-worker.js', import.meta.url);
  // Loaded from the TypeScript source (e.g. by vitest): workers run the compiled JS.
  const compiled = path.resolve(path.dirname(own), '../../dist/src/cli/sweep-worker.js');
  if (!fs.existsSync(compiled)) throw new Error(`the compiled sweep worker ${compiled} is missing: run npm run build`);
  return pathToFileURL(compiled);
}

interface RunStats {
  workers: number;
  seconds: number;
  /** Seconds each decode of the market data took (one per worker and venue set). */
  decode_seconds: number[];
}

async function runGrid(tasks: SweepTask[], workers: number, onResult: (r: SweepPointResult) => void): Promise<RunStats> {
  const started = performance.now();
  const decode: number[] = [];
  if (workers <= 1) {
    await runPoints(tasks, {
      onLoaded: (_rows, s) => decode.push(s),
      onResult,
      between: () => new Promise((r) => setImmediate(r)),
    });
    return { workers: 1, seconds: (performance.now() - started) / 1000, decode_seconds: decode };
  }
  const url = workerFile();
  const shares: SweepTask[][] = Array.from({ length: workers }, () => []);
  for (const t of tasks) shares[t.index % workers]!.push(t);
  const threads: Worker[] = [];
  try {
    await Promise.all(
      shares.map(
        (share) =>
          new Promise<void>((resolve, reject) => {
            const data: SweepWorkerData = { kind: 'latencylab-sweep', tasks: share };
            const w = new Worker(url, { workerData: data });
            threads.push(w);
            let left = share.length;
            let failed = false;
            const fail = (message: string) => {
              if (failed) return;
              failed = true;
              reject(new Error(message));
            };
            w.on('message', (m: WorkerMessage) => {
              if (m.type === 'loaded') decode.push(m.seconds);
              else if (m.type === 'result') {
                onResult(m.result);
                if (--left === 0) resolve();
              } else fail(m.message);
            });
            w.on('error', (e) => fail(e.message));
            w.on('exit', (code) => {
              if (left > 0) fail(`a sweep worker stopped (exit code ${code}) with ${left} point(s) not run`);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  return { workers, seconds: (performance.now() - started) / 1000, decode_seconds: decode };
}

function table(rows: string[][], rightAlign: boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (rightAlign[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export async function runSweep(o: SweepCliOptions): Promise<{ file: SweepSummaryFile; stats: RunStats; outDir: string; report: string }> {
  const latencies = parseLatencyList(o.latency);
  const { sets, varying } = paramGrid(o.param ?? {});
  const legs = sweptLegs(o);
  // Fail before any work: the dataset, the strategy, every parameter set and every latency combination.
  const optionsFor = (lat: SweepLatency, set: Record<string, string>) => toRunOptions(o, lat.text, set);
  const base = optionsFor(latencies[0]!, sets[0]!);
  if (!fs.existsSync(path.join(base.dataset, 'manifest.json'))) throw new Error(`not a dataset (no manifest.json): ${base.dataset}`);
  const ds = openDataset(base.dataset);
  const prepared: PreparedRun[] = [];
  for (const set of sets) {
    const where = sets.length > 1 ? `parameter set ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ')}: ` : '';
    try {
      const prep = await prepare({ strategy: o.strategy, params: set });
      createStrategy(prep); // the strategy's own checks (e.g. fast < slow)
      for (const v of prep.venues) ds.findStream(v.exchange, v.symbol);
      prepared.push(prep);
    } catch (e) {
      throw new Error(`${where}${(e as Error).message}`);
    }
  }
  for (const lat of latencies) checkLatencyOptions(optionsFor(lat, sets[0]!).latency, o.venueLatency);
  for (const prep of prepared) checkLatencyVenues(o.venueLatency, prep.venues, ds);
  parseQueueModel(o.queue);
  if (o.fees !== undefined) parseFees(o.fees);
  if (o.rateLimit !== undefined) parseRateLimit(o.rateLimit);
  // Unpack .arrow.gz segments here, once, before threads would race to do it.
  for (const s of ds.segments) ensureUnpacked(path.join(base.dataset, s.events));
  // The exchange-time resolution of every venue the grid replays (one pass over the events table).
  const streams = [...new Set(prepared.flatMap((p) => p.venues.map((v) => ds.findStream(v.exchange, v.symbol))))].sort((a, b) => a - b);
  const resolution = exchangeTimeResolutions(ds, streams);
  const warnings = resolutionWarnings(latencies, resolution);

  const param_types: Record<string, ParamType> = {};
  for (const [k, spec] of Object.entries(prepared[0]!.def.params)) param_types[k] = spec.type;
  const grid: SweepGrid = {
    latencies,
    param_types,
    varying_params: varying,
    param_sets: sets,
    legs,
    points: [],
  };
  const tasks: SweepTask[] = [];
  sets.forEach((set, s) => {
    latencies.forEach((lat, l) => {
      const index = tasks.length;
      grid.points.push({ index, param_set: s, latency: l });
      tasks.push({ index, param_set: s, latency: lat.text, latency_ns: lat.ns, options: optionsFor(lat, set) });
    });
  });

  const maxWorkers = Math.max(1, Math.min(tasks.length, os.availableParallelism()));
  const workers = Math.min(o.workers ?? maxWorkers, tasks.length);
  if (!o.json) {
    process.stdout.write(
      `sweep: ${o.strategy} on ${base.dataset}, ${tasks.length} point(s) = ${latencies.length} latenc${latencies.length === 1 ? 'y' : 'ies'} ` +
        `(${latencies.map((l) => latencyText(l.ns)).join(', ')}) × ${sets.length} parameter set(s)` +
        `${varying.length ? ` (varying ${varying.join(', ')})` : ''}; ${workers} worker(s)\n` +
        `  latency varies on legs: ${legs.varying.join(', ')}` +
        `${Object.keys(legs.fixed).length ? `; fixed: ${Object.entries(legs.fixed).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}\n`,
    );
  }

  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'sweep [{bar}] {value}/{total} points | {duration_formatted} elapsed | eta {eta_formatted}',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: false,
      clearOnComplete: true,
      etaBuffer: Math.max(2, Math.min(20, tasks.length)),
    },
    cliProgress.Presets.shades_classic,
  );
  const results: SweepPointResult[] = [];
  bar.start(tasks.length, 0);
  let stats: RunStats;
  try {
    stats = await runGrid(tasks, workers, (r) => {
      results.push(r);
      bar.increment();
    });
  } finally {
    bar.stop();
  }
  results.sort((a, b) => a.index - b.index);
  if (results.length !== tasks.length || results.some((r, i) => r.index !== i)) {
    throw new Error(`sweep: ${results.length} result(s) for ${tasks.length} point(s)`);
  }

  const file: SweepSummaryFile = {
    dataset: base.dataset,
    strategy: o.strategy,
    seed: o.seed,
    queue: o.queue,
    fees: o.fees ?? null,
    rate_limit: o.rateLimit ?? null,
    grid,
    break_even: breakEvens(grid, results),
    exchange_time_resolution: resolution,
    resolution_warnings: warnings,
    points: results,
  };
  const outDir = o.out;
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'results.arrow'), toArrowIPC(grid, results));
  fs.writeFileSync(path.join(outDir, 'results.csv'), toCsv(grid, results));
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(file, null, 2) + '\n');
  const report = path.join(outDir, 'report.html');
  fs.writeFileSync(report, renderSweepReport(file));
  return { file, stats, outDir, report };
}

function printTable(file: SweepSummaryFile): string {
  const { grid, points } = file;
  const cur = points[0]!.summary.currency;
  const head = ['point', 'latency', ...grid.varying_params, `gross ${cur}`, `fees ${cur}`, `net ${cur}`, 'orders', 'fills', 'fill%', 'maker%', `max dd`, 'sharpe', 'markout bp'];
  const rows = [head];
  // A point whose latency is in a resolution warning is marked "*" next to its latency.
  const unresolved = new Set(file.resolution_warnings.flatMap((w) => [w.low_ns, w.high_ns]));
  for (const p of points) {
    const s = p.summary;
    rows.push([
      String(p.index),
      latencyText(p.latency_ns) + (unresolved.has(p.latency_ns) ? ' *' : ''),
      ...grid.varying_params.map((k) => String(s.params[k])),
      s.gross_pnl.toFixed(4),
      s.fees_paid.toFixed(4),
      s.net_pnl.toFixed(4),
      String(s.orders),
      String(s.fills),
      (s.fill_ratio * 100).toFixed(1),
      (s.maker_share * 100).toFixed(1),
      s.max_drawdown.toFixed(4),
      s.sharpe.toFixed(3),
      s.markout_bps === null ? '-' : s.markout_bps.toFixed(2),
    ]);
  }
  const right = head.map((_, c) => c !== 1 && !(c >= 2 && c < 2 + grid.varying_params.length));
  const lines = [table(rows, right), '', 'break-even latency (net PnL <= 0, interpolated; gross = before fees):'];
  for (const b of file.break_even) lines.push(`  ${b.label}: net ${b.net.text}; gross ${b.gross.text}`);
  if (file.resolution_warnings.length) {
    lines.push('', '* resolution warnings (latencies closer together than the data\'s exchange-time resolution):');
    for (const w of file.resolution_warnings) lines.push(`  warning: ${w.text}`);
  }
  return lines.join('\n');
}

export function registerSweepCommand(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('replay a strategy over a grid of latencies × parameter values; writes results.arrow, results.csv, summary.json and report.html')
    .requiredOption('--latency <list>', 'comma-separated one-way latencies, each setting feed, order and response unless a leg is fixed (e.g. 0,250us,1ms,5ms,10ms,50ms)')
    .requiredOption('--out <dir>', 'folder for results.arrow, results.csv, summary.json and report.html')
    .option('--workers <n>', 'worker threads (default: one per point, at most the number of CPUs)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be a whole number >= 1, got "${v}"`);
      return n;
    })
    .option('--json', 'print the results as JSON');
  addRunOptions(cmd).action(async (o: SweepCliOptions) => {
    const { file, stats, outDir, report } = await runSweep(o);
    const decode = stats.decode_seconds.length ? Math.max(...stats.decode_seconds) : 0;
    if (o.json) {
      const cols = resultColumns(file.grid, file.points);
      const rows = file.points.map((_, i) => Object.fromEntries(cols.map((c) => [c.name, c.values[i]])));
      const out = {
        out: outDir,
        files: ['results.arrow', 'results.csv', 'summary.json', 'report.html'].map((f) => path.join(outDir, f)),
        report,
        workers: stats.workers,
        seconds: +stats.seconds.toFixed(3),
        decode_seconds: +decode.toFixed(3),
        grid: file.grid,
        break_even: file.break_even,
        exchange_time_resolution: file.exchange_time_resolution,
        resolution_warnings: file.resolution_warnings,
        results: rows,
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    process.stdout.write(
      [
        `${file.points.length} point(s) in ${stats.seconds.toFixed(2)} s with ${stats.workers} worker(s) (market data decoded in ${decode.toFixed(2)} s per worker)`,
        `  seed ${file.seed}; queue ${file.points[0]!.summary.queue_model}; fill rule ${file.points[0]!.summary.fill_rule}; fees ${file.points[0]!.summary.fees.join('; ')}`,
        '',
        printTable(file),
        '',
        `results: ${path.join(outDir, 'results.arrow')}, ${path.join(outDir, 'results.csv')}, ${path.join(outDir, 'summary.json')}`,
        `report: ${report}`,
      ].join('\n') + '\n',
    );
  });
}

