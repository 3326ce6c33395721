// Everything between command-line options and runReplay: loading the strategy and its parameters,
// building each venue's models, and summarizing the result (the numbers every report states).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveParams, type ParamSpecs, type StrategyDefinition, type VenueRef } from '../strategy/api.js';
import { createRng } from '../simulation/random.js';
import { buildVenueLatency, describeVenueLatency, type VenueLatencyOptions } from '../simulation/latency.js';
import { parseFees } from '../simulation/fees.js';
import { parseRateLimit } from '../simulation/rate-limit.js';
import { parseQueueModel } from '../simulation/queue.js';
import type { FillRule } from '../simulation/matching.js';
import type { ContractSpec } from '../simulation/accounting.js';
import { contractSpec, defaultFees, defaultRateLimit } from '../exchanges/registry.js';
import { loadMarketData, type MarketData } from './market-data.js';
import { runReplay, type ReplayResult, type VenueSetup } from './replay.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Built-in strategies: dist/strategies/<name>.js next to dist/src. */
const BUILTIN_DIR = path.resolve(here, '../../strategies');

export function builtinStrategies(): string[] {
  if (!fs.existsSync(BUILTIN_DIR)) return [];
  return fs
    .readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** A built-in strategy by name, or a module path (.js/.mjs) exporting a StrategyDefinition as default. */
export async function loadStrategy(nameOrPath: string): Promise<StrategyDefinition<ParamSpecs>> {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || /\.(m?js|ts)$/.test(nameOrPath);
  const file = isPath ? path.resolve(nameOrPath) : path.join(BUILTIN_DIR, `${nameOrPath}.js`);
  if (!fs.existsSync(file)) {
    if (isPath) throw new Error(`strategy file not found: ${file}`);
    throw new Error(`unknown strategy "${nameOrPath}" (built in: ${builtinStrategies().join(', ')}; or give a path to a .js module)`);
  }
  if (file.endsWith('.ts')) throw new Error(`${file}: compile TypeScript strategies first (put them in strategies/ and run npm run build), then pass the .js`);
  const mod = (await import(pathToFileURL(file).href)) as { default?: StrategyDefinition<ParamSpecs> };
  const def = mod.default;
  if (!def || typeof def.create !== 'function' || typeof def.venues !== 'function' || typeof def.params !== 'object') {
    throw new Error(`${file}: the default export must be a strategy made with defineStrategy({ name, params, venues, create })`);
  }
  return def;
}

export interface RunOptions {
  dataset: string;
  strategy: string;
  params: Record<string, string>;
  latency: VenueLatencyOptions;
  /** Per-venue latency overrides by exchange id, e.g. { 'binance-spot': { latency: '250us' } }. */
  venueLatency?: Record<string, VenueLatencyOptions>;
  seed: number;
  queue: string;
  /** How one print fills several resting orders: 'conservative' (default) or 'optimistic' (docs/matching.md). */
  fillRule?: FillRule;
  fees?: string;
  rateLimit?: string;
  /** Initial balances per settlement asset (e.g. { USDT: 100000 }); defaults below. */
  balances?: Record<string, number>;
}

export interface RunSummary {
  strategy: string;
  params: Record<string, number | string | boolean>;
  dataset: string;
  venues: string[];
  latency: string[];
  seed: number;
  queue_model: string;
  fill_rule: FillRule;
  fees: string[];
  rate_limits: string[];
  currency: string;
  gross_pnl: number;
  net_pnl: number;
  fees_paid: number;
  orders: number;
  fills: number;
  fill_ratio: number;
  maker_share: number;
  taker_share: number;
  traded_volume: number;
  max_drawdown: number;
  sharpe: number;
  /** Mean markout of the fills, size-weighted: the mid `markout_horizon_ms` after each fill against its
   *  price, in bps, signed so that negative means the market moved against the fill (adverse selection). */
  markout_bps: number | null;
  /** The same over maker fills only (where adverse selection shows). */
  maker_markout_bps: number | null;
  markout_horizon_ms: number;
  events: number;
  span_s: number;
  positions: { venue: string; position: number; average_entry: number; realized_pnl: number; unrealized_pnl: number; fees: number; settlement: string }[];
  reconciled: boolean;
}

const DEFAULT_QUOTE = 100_000;

/** Enough of each settlement asset to trade: 100,000 in quote currencies, or its worth in the coin. */
function defaultBalances(spec: ContractSpec, firstMid: number): Record<string, number> {
  if (spec.kind === 'inverse') return { [spec.base]: DEFAULT_QUOTE / firstMid };
  if (spec.kind === 'spot') return { [spec.quote]: DEFAULT_QUOTE, [spec.base]: DEFAULT_QUOTE / firstMid };
  return { [spec.quote]: DEFAULT_QUOTE };
}

function firstMid(data: MarketData, v: number): number {
  for (const c of data.byVenue[v]!) {
    for (let i = 0; i < c.length; i++) if (c.kind[i] === 1 && c.price[i]! > 0) return c.price[i]!;
  }
  return 1;
}

/**
 * One venue's legs: its own setting for the leg, else its own `latency`, else the run-wide leg, else the
 * run-wide `latency` (cancel/modify fall back to the order leg in the same way).
 */
export function venueLatencyOptions(run: VenueLatencyOptions, venue: VenueLatencyOptions | undefined): VenueLatencyOptions {
  if (!venue) return run;
  const leg = (k: 'feed' | 'order' | 'response') => venue[k] ?? venue.latency ?? run[k] ?? run.latency;
  const order = leg('order');
  return {
    feed: leg('feed'),
    order,
    response: leg('response'),
    cancel: venue.cancel ?? (venue.order ?? venue.latency ? undefined : run.cancel) ?? order,
    modify: venue.modify ?? (venue.order ?? venue.latency ? undefined : run.modify) ?? order,
  };
}

export interface PreparedRun {
  def: StrategyDefinition<ParamSpecs>;
  params: Record<string, number | string | boolean>;
  venues: VenueRef[];
}

export async function prepare(opts: Pick<RunOptions, 'strategy' | 'params'>): Promise<PreparedRun> {
  const def = await loadStrategy(opts.strategy);
  const params = resolveParams(def.params, opts.params) as Record<string, number | string | boolean>;
  return { def, params, venues: def.venues(params as never) };
}

export function runPrepared(prep: PreparedRun, data: MarketData, opts: RunOptions): { result: ReplayResult; summary: RunSummary } {
  const rng = createRng(opts.seed);
  const setups: VenueSetup[] = data.venues.map((v, i) => {
    const lat = venueLatencyOptions(opts.latency, opts.venueLatency?.[v.exchange]);
    const spec = contractSpec(v.exchange, v.symbol);
    return {
      spec,
      latency: buildVenueLatency(lat, rng, data.clock),
      queue: parseQueueModel(opts.queue),
      fillRule: opts.fillRule ?? 'conservative',
      fees: opts.fees ? parseFees(opts.fees) : defaultFees(v.exchange, v.symbol),
      rateLimiter: opts.rateLimit ? parseRateLimit(opts.rateLimit) : defaultRateLimit(v.exchange),
      initialBalances: defaultBalances(spec, firstMid(data, i)),
    };
  });
  const strategy = prep.def.create(prep.params as never);
  const result = runReplay({ data, strategy, venues: setups, rng });
  return { result, summary: summarize(prep, data, opts, setups, result) };
}

export async function runOnce(opts: RunOptions): Promise<{ result: ReplayResult; summary: RunSummary; originNs: bigint }> {
  const prep = await prepare(opts);
  const data = loadMarketData(opts.dataset, prep.venues);
  return { ...runPrepared(prep, data, opts), originNs: data.originNs };
}

function summarize(prep: PreparedRun, data: MarketData, opts: RunOptions, setups: VenueSetup[], r: ReplayResult): RunSummary {
  const specs = setups.map((s) => s.spec);
  // Everything is reported in the first venue's quote currency; inverse venues convert at their last mid.
  const toQuote = (v: number, x: number) => (specs[v]!.kind === 'inverse' ? x * r.venues[v]!.lastMid : x);
  let net = 0;
  let fees = 0;
  r.venues.forEach((vr, v) => {
    net += toQuote(v, vr.netPnl);
    fees += toQuote(v, vr.fees);
  });
  const fills = r.fills.length;
  const maker = r.fills.filter((f) => f.maker).length;
  let volume = 0;
  for (const f of r.fills) volume += specs[f.venue]!.kind === 'inverse' ? f.size * specs[f.venue]!.contractValue : f.size * f.price;
  // Max drawdown and Sharpe over the run from the PnL grid (1 s steps): mean/sd of the steps × sqrt(steps),
  // i.e. the run's PnL over its volatility, not annualized.
  let peak = -Infinity;
  let mdd = 0;
  const eq = r.equity;
  for (let i = 0; i < eq.length; i++) {
    peak = Math.max(peak, eq[i]!);
    mdd = Math.max(mdd, peak - eq[i]!);
  }
  let mean = 0;
  let sq = 0;
  const n = eq.length - 1;
  for (let i = 1; i < eq.length; i++) mean += eq[i]! - eq[i - 1]!;
  mean /= Math.max(n, 1);
  for (let i = 1; i < eq.length; i++) sq += (eq[i]! - eq[i - 1]! - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  const sharpe = sd > 0 ? (mean / sd) * Math.sqrt(n) : 0;
  const round = (x: number, d = 6) => Math.round(x * 10 ** d) / 10 ** d;
  const markout = (makerOnly: boolean): number | null => {
    let num = 0;
    let den = 0;
    for (const f of r.fills) {
      if ((makerOnly && !f.maker) || !Number.isFinite(f.midAfter)) continue;
      num += f.side * ((f.midAfter - f.price) / f.price) * 1e4 * f.size;
      den += f.size;
    }
    return den > 0 ? round(num / den, 3) : null;
  };
  return {
    strategy: prep.def.name,
    params: prep.params,
    dataset: opts.dataset,
    venues: data.venues.map((v) => `${v.exchange} ${v.symbol}`),
    latency: setups.map((s, i) => `${data.venues[i]!.exchange} ${data.venues[i]!.symbol}: ${describeVenueLatency(s.latency)}`),
    seed: opts.seed,
    queue_model: setups[0]?.queue.description ?? '',
    fill_rule: opts.fillRule ?? 'conservative',
    fees: setups.map((s, i) => `${data.venues[i]!.exchange}: ${s.fees.description}`),
    rate_limits: setups.map((s, i) => `${data.venues[i]!.exchange}: ${s.rateLimiter.description}`),
    currency: specs[0] ? (specs[0].kind === 'inverse' ? 'USD' : specs[0].quote) : '',
    gross_pnl: round(net + fees),
    net_pnl: round(net),
    fees_paid: round(fees),
    orders: r.orders.length,
    fills,
    fill_ratio: round(r.orders.length ? r.orders.filter((o) => o.filledSize > 0).length / r.orders.length : 0, 4),
    maker_share: round(fills ? maker / fills : 0, 4),
    taker_share: round(fills ? (fills - maker) / fills : 0, 4),
    traded_volume: round(volume, 2),
    max_drawdown: round(mdd),
    sharpe: round(sharpe, 3),
    markout_bps: markout(false),
    maker_markout_bps: markout(true),
    markout_horizon_ms: r.markoutNs / 1e6,
    events: r.events,
    span_s: round((r.lastNs - r.firstNs) / 1e9, 3),
    positions: r.venues.map((vr) => ({
      venue: `${vr.venue.exchange} ${vr.venue.symbol}`,
      position: round(vr.position, 8),
      average_entry: round(vr.averageEntry, 8),
      realized_pnl: round(vr.realizedPnl, 8),
      unrealized_pnl: round(vr.unrealizedPnl, 8),
      fees: round(vr.fees, 8),
      settlement: vr.settlement,
    })),
    reconciled: r.venues.every((v) => v.reconcile.ok),
  };
}

