// latencylab replay: one deterministic run of a strategy over a dataset at given latencies.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { auditRunDir, formatAudit, type RunFile } from './audit-command.js';
import { runOnce, UsageError, type RunOptions, type RunSummary } from '../engine/session.js';
import type { ReplayResult } from '../engine/replay.js';
import { formatTimeNs } from '../data/time.js';
import { parseFillRule } from '../simulation/matching.js';

export const DEFAULT_DATASET = 'datasets/binance-2024-08-08';

/** `--param k=v` (repeatable) into a record; `k=v1,v2` is kept whole here (sweeps split it). */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--param takes name=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1).trim() };
}

const LEGS = ['latency', 'feed', 'order', 'response', 'cancel', 'modify'] as const;

/** `--venue-latency binance-spot:feed=250us` (repeatable): one venue's setting, replacing the run-wide one of that name. */
export function collectVenueLatency(value: string, previous: Record<string, Record<string, string>> = {}): Record<string, Record<string, string>> {
  const m = /^([a-z0-9-]+):([a-z]+)=(.+)$/.exec(value.trim());
  if (!m || !(LEGS as readonly string[]).includes(m[2]!)) {
    throw new UsageError(`--venue-latency takes <exchange>:<leg>=<duration> with leg one of ${LEGS.join(', ')}, got "${value}"`);
  }
  const [, exchange, leg, d] = m;
  const before = previous[exchange!]?.[leg!];
  if (before !== undefined) throw new UsageError(`--venue-latency ${exchange}:${leg} given twice ("${before}", then "${d}")`);
  return { ...previous, [exchange!]: { ...(previous[exchange!] ?? {}), [leg!]: d! } };
}

/** Options shared by replay and sweep, so both read latencies, models and seeds the same way. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <dir>', 'dataset folder', DEFAULT_DATASET)
    .requiredOption('--strategy <name|path>', 'built-in strategy name (a bare name is always the built-in), or a path to a compiled strategy module (./my.js); loading a module runs its top-level code, so only pass files you trust')
    .option('--param <name=value>', 'strategy parameter (repeatable)', collectParam)
    .option('--feed-latency <d>', 'market data, exchange to strategy (or "recorded": the dataset\'s own local - exchange times, clock offset removed)')
    .option('--order-latency <d>', 'orders, strategy to exchange (new, cancel and modify)')
    .option('--response-latency <d>', 'acks, fills and rejections, exchange to strategy')
    .option('--cancel-latency <d>', 'cancel requests only')
    .option('--modify-latency <d>', 'modify requests only')
    .option('--venue-latency <exchange:leg=d>', 'one venue\'s latency setting, e.g. binance-spot:feed=250us; it replaces the run-wide setting of the same name only (repeatable; settings: latency, feed, order, response, cancel, modify)', collectVenueLatency)
    .option('--queue <model>', 'queue position model: risk-averse | prob-power:<n> | prob-log', 'risk-averse')
    .option('--fill-rule <rule>', 'how one trade print fills several resting orders: conservative (at most its own size across them, price-time priority) | optimistic (hftbacktest\'s: each order may take the whole print)', 'conservative')
    .option('--fees <rates>', 'override every venue\'s fees, e.g. maker=0.0002,taker=0.0005 (default: each exchange\'s published base tier)')
    .option('--rate-limit <limits>', 'override every venue\'s order rate limit, e.g. 50/10s or none (default: each exchange\'s)')
    .option('--seed <n>', 'seed of the random latency and any randomness', (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new Error(`--seed must be a whole number, got "${v}"`);
      return n;
    }, 1);
}

export interface RunCliOptions {
  dataset: string;
  strategy: string;
  param?: Record<string, string>;
  latency?: string;
  feedLatency?: string;
  orderLatency?: string;
  responseLatency?: string;
  cancelLatency?: string;
  modifyLatency?: string;
  venueLatency?: Record<string, Record<string, string>>;
  queue: string;
  fillRule?: string;
  fees?: string;
  rateLimit?: string;
  seed: number;
}

export function toRunOptions(o: RunCliOptions, latency: string | undefined, params: Record<string, string>): RunOptions {
  if (!fs.existsSync(o.dataset)) throw new Error(`dataset not found: ${o.dataset}`);
  return {
    dataset: o.dataset,
    strategy: o.strategy,
    params,
    latency: {
      latency,
      feed: o.feedLatency,
      order: o.orderLatency,
      response: o.responseLatency,
      cancel: o.cancelLatency,
      modify: o.modifyLatency,
    },
    venueLatency: o.venueLatency,
    seed: o.seed,
    queue: o.queue,
    fillRule: parseFillRule(o.fillRule ?? 'conservative'),
    fees: o.fees,
    rateLimit: o.rateLimit,
  };
}

export function formatSummary(s: RunSummary): string {
  const money = (x: number) => `${x.toFixed(4)} ${s.currency}`;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `${s.strategy} on ${s.dataset} (${s.venues.join(', ')}), ${s.events.toLocaleString('en-US')} market events over ${s.span_s} s`,
    `  params: ${Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ...s.latency.map((l) => `  latency ${l}`),
    `  queue ${s.queue_model}; fill rule ${s.fill_rule}; seed ${s.seed}`,
    `  fees ${s.fees.join('; ')}`,
    '',
    `  gross PnL     ${money(s.gross_pnl)}`,
    `  fees          ${money(s.fees_paid)}`,
    `  net PnL       ${money(s.net_pnl)}`,
    `  orders        ${s.orders}   fills ${s.fills}   fill ratio ${pct(s.fill_ratio)}   maker ${pct(s.maker_share)} / taker ${pct(s.taker_share)}`,
    `  volume        ${s.traded_volume.toFixed(2)} ${s.currency}`,
    `  max drawdown  ${money(s.max_drawdown)}   Sharpe over the run ${s.sharpe}`,
    `  markout ${s.markout_horizon_ms}ms  ${s.markout_bps === null ? 'no fills' : `${s.markout_bps} bps (maker fills ${s.maker_markout_bps ?? '-'} bps; negative = adverse selection)`}`,
    ...s.positions.map((p) => `  ${p.venue}: position ${p.position}, realized ${p.realized_pnl} ${p.settlement}, unrealized ${p.unrealized_pnl} ${p.settlement}, fees ${p.fees} ${p.settlement}`),
    `  accounting reconciles with the fills: ${s.reconciled ? 'yes' : 'NO'}`,
  ];
  return lines.join('\n');
}

/** fills.arrow, orders.arrow, equity.arrow (Arrow IPC stream) and summary.json. */
export function writeRunOutput(dir: string, r: ReplayResult, s: RunSummary, originNs: bigint): void {
  fs.mkdirSync(dir, { recursive: true });
  const abs = (rel: number) => originNs + BigInt(Math.round(rel));
  const ts = (xs: number[]) => BigInt64Array.from(xs.map(abs));
  const fills = tableFromArrays({
    order_id: Int32Array.from(r.fills.map((f) => f.orderId)),
    venue: Uint8Array.from(r.fills.map((f) => f.venue)),
    side: Int8Array.from(r.fills.map((f) => f.side)),
    price: Float64Array.from(r.fills.map((f) => f.price)),
    size: Float64Array.from(r.fills.map((f) => f.size)),
    maker: r.fills.map((f) => f.maker),
    fee: Float64Array.from(r.fills.map((f) => f.fee)),
    exch_ts_ns: ts(r.fills.map((f) => f.exchangeTimeNs)),
    seen_ts_ns: ts(r.fills.map((f) => f.seenNs)),
    mid_at_fill: Float64Array.from(r.fills.map((f) => f.midAtFill)),
    mid_after: Float64Array.from(r.fills.map((f) => f.midAfter)),
  });
  const orders = tableFromArrays({
    order_id: Int32Array.from(r.orders.map((o) => o.orderId)),
    venue: Uint8Array.from(r.orders.map((o) => o.venue)),
    side: Int8Array.from(r.orders.map((o) => o.side)),
    type: r.orders.map((o) => o.type),
    tif: r.orders.map((o) => o.tif),
    price: Float64Array.from(r.orders.map((o) => o.price)),
    size: Float64Array.from(r.orders.map((o) => o.size)),
    filled: Float64Array.from(r.orders.map((o) => o.filledSize)),
    status: r.orders.map((o) => o.finalStatus),
    reason: r.orders.map((o) => o.reason ?? ''),
    sent_ts_ns: ts(r.orders.map((o) => o.sentNs)),
    arrived_ts_ns: ts(r.orders.map((o) => (Number.isNaN(o.arrivedNs) ? o.sentNs : o.arrivedNs))),
  });
  const equity = tableFromArrays({
    ts_ns: ts([...r.equityTimeNs]),
    pnl: Float64Array.from(r.equity),
  });
  fs.writeFileSync(path.join(dir, 'fills.arrow'), tableToIPC(fills, 'stream'));
  fs.writeFileSync(path.join(dir, 'orders.arrow'), tableToIPC(orders, 'stream'));
  fs.writeFileSync(path.join(dir, 'equity.arrow'), tableToIPC(equity, 'stream'));
  const span = { first: formatTimeNs(abs(r.firstNs)), last: formatTimeNs(abs(r.lastNs)) };
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...s, span }, null, 2) + '\n');
}

export function registerReplayCommand(program: Command): void {
  const cmd = program
    .command('replay')
    .description('replay a strategy over a dataset at given latencies: PnL, fees, fills, drawdown (latency units ns, us, ms, s: 0, 250us, 1ms, 1.5ms, 2s)')
    .option('--latency <d>', 'one-way distance to the exchange: sets feed, order and response latency (e.g. 1ms, or lognormal:p50=1ms,p99=5ms)', '0')
    .option('--json', 'print the summary as JSON')
    .option('--out <dir>', 'write fills, orders and the PnL curve as Arrow, summary.json and run.json')
    .option('--audit', 'after the summary, audit the fills (needs --out; see latencylab audit)');
  addRunOptions(cmd).action(async (o: RunCliOptions & { json?: boolean; out?: string; audit?: boolean }) => {
    if (o.audit && !o.out) throw new Error('--audit needs --out <dir> (the audit reads the run folder)');
    const opts = toRunOptions(o, o.latency, o.param ?? {});
    const { result, summary, originNs } = await runOnce(opts);
    if (o.out) {
      writeRunOutput(o.out, result, summary, originNs);
      const run: RunFile = {
        format: 'latencylab-run',
        dataset: path.resolve(opts.dataset),
        strategy: opts.strategy,
        params: opts.params,
        venues: summary.venues.map((v) => {
          const [exchange, symbol] = v.split(' ');
          return { exchange: exchange!, symbol: symbol! };
        }),
        latency: o.latency ?? '0',
        seed: opts.seed,
        queue: opts.queue,
        fill_rule: opts.fillRule ?? 'conservative',
        markout_horizon_ms: summary.markout_horizon_ms,
      };
      fs.writeFileSync(path.join(o.out, 'run.json'), JSON.stringify(run, null, 2) + '\n');
    }
    if (!o.audit) {
      process.stdout.write((o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary) + (o.out ? `\n  written to ${o.out}` : '')) + '\n');
      return;
    }
    const { run, report } = auditRunDir(o.out!);
    process.stdout.write(
      (o.json ? JSON.stringify({ summary, audit: report }, null, 2) : `${formatSummary(summary)}\n  written to ${o.out}\n\n${formatAudit(run, report)}`) + '\n',
    );
  });
}
