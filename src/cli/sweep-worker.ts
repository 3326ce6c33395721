// Runs sweep points: decode the market data once, simulate every point over it. Used in the main thread
// (one worker, or one point) and as the worker_threads entry of `latencylab sweep` (compiled to
// dist/src/cli/sweep-worker.js; the worker receives its points in workerData and posts one message per point).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { prepare, runPrepared, type PreparedRun, type RunOptions } from '../engine/session.js';
import { loadMarketData, type MarketData } from '../engine/market-data.js';
import type { SweepPointResult } from '../report/sweep-results.js';

/** One point of the grid: what a result reports of it, plus the options to run it with. */
export interface SweepTask extends Omit<SweepPointResult, 'summary'> {
  options: RunOptions;
}

export type WorkerMessage =
  | { type: 'loaded'; rows: number; seconds: number }
  | { type: 'result'; result: SweepPointResult }
  | { type: 'error'; message: string };

export interface SweepWorkerData {
  kind: 'latencylab-sweep';
  tasks: SweepTask[];
}

export interface RunPointsHooks {
  onLoaded?(rows: number, seconds: number): void;
  onResult(result: SweepPointResult): void;
  /** Called between points; the main thread yields here so the progress bar can draw. */
  between?(): Promise<void>;
}

const venueKey = (p: PreparedRun) => p.venues.map((v) => `${v.exchange}\u0000${v.symbol}`).join('\u0001');

/**
 * Runs `tasks` (all of one dataset). Market data is decoded once per distinct venue set (once in all, unless a
 * parameter such as the symbol changes the venues), and only one decoded set is held at a time.
 */
export async function runPoints(tasks: SweepTask[], hooks: RunPointsHooks): Promise<void> {
  const prepared = new Map<number, PreparedRun>();
  for (const t of tasks) if (!prepared.has(t.param_set)) prepared.set(t.param_set, await prepare(t.options));
  const ordered = [...tasks].sort((a, b) => {
    const ka = venueKey(prepared.get(a.param_set)!);
    const kb = venueKey(prepared.get(b.param_set)!);
    return ka < kb ? -1 : ka > kb ? 1 : a.index - b.index;
  });
  let loadedKey: string | null = null;
  let data: MarketData | null = null;
  for (const t of ordered) {
    const prep = prepared.get(t.param_set)!;
    const key = venueKey(prep);
    if (key !== loadedKey || data === null) {
      data = null; // let the previous set go before decoding the next
      const started = performance.now();
      data = loadMarketData(t.options.dataset, prep.venues);
      loadedKey = key;
      hooks.onLoaded?.(data.rows, (performance.now() - started) / 1000);
    }
    let summary;
    try {
      ({ summary } = runPrepared(prep, data, t.options));
    } catch (e) {
      const params = Object.entries(t.options.params).map(([k, v]) => ` ${k}=${v}`).join('');
      throw new Error(`point ${t.index} (latency ${t.latency}${params}): ${e instanceof Error ? e.message : String(e)}`);
    }
    hooks.onResult({ index: t.index, param_set: t.param_set, latency: t.latency, latency_ns: t.latency_ns, summary });
    if (hooks.between) await hooks.between();
  }
}

if (!isMainThread && parentPort && (workerData as SweepWorkerData | undefined)?.kind === 'latencylab-sweep') {
  const port = parentPort;
  const post = (m: WorkerMessage) => port.postMessage(m);
  runPoints((workerData as SweepWorkerData).tasks, {
    onLoaded: (rows, seconds) => post({ type: 'loaded', rows, seconds }),
    onResult: (result) => post({ type: 'result', result }),
  }).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
}
