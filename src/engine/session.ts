// Everything between command-line options and runReplay: loading the strategy and its parameters,
// building each venue's models, and summarizing the result (the numbers every report states).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveParams, type ParamSpecs, type Strategy, type StrategyDefinition, type VenueRef } from '../strategy/api.js';
import { describeThrown, frameIn, guardStrategy, strategyFailure, type StrategyOrigin } from './strategy-errors.js';
import { createRng } from '../simulation/random.js';
import { buildVenueLatency, describeVenueLatency, parseLatency, type LatencyLeg, type VenueLatencyOptions } from '../simulation/latency.js';
import { parseFees } from '../simulation/fees.js';
import { parseRateLimit } from '../simulation/rate-limit.js';
import { parseQueueModel } from '../simulation/queue.js';
import type { FillRule } from '../simulation/matching.js';
import type { ContractSpec } from '../simulation/accounting.js';
import { contractSpec, defaultFees, defaultRateLimit } from '../exchanges/registry.js';
import { openDataset, type Dataset } from '../data/reader.js';
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

/**
 * The file of `--strategy <name|path>`. A bare name (no slash, no .js/.mjs/.ts ending) is a built-in strategy
 * and only ever a built-in, whatever files the working folder holds. Anything else is a path. A bare file
 * name that is also a built-in's (`market-maker.js`) is refused as ambiguous: the built-in is `market-maker`,
 * the file `./market-maker.js`.
 */
export function strategyFile(nameOrPath: string): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || /\.(m?js|ts)$/.test(nameOrPath);
  if (!isPath) {
    const file = path.join(BUILTIN_DIR, `${nameOrPath}.js`);
    if (!fs.existsSync(file)) throw new Error(`unknown strategy "${nameOrPath}" (built in: ${builtinStrategies().join(', ')}; or give a path to a .js module)`);
    return file;
  }
  const bare = nameOrPath.replace(/\.(m?js|ts)$/, '');
  if (!nameOrPath.includes('/') && !nameOrPath.includes('\\') && builtinStrategies().includes(bare)) {
    throw new Error(
      `--strategy ${nameOrPath} is ambiguous: write --strategy ${bare} for the built-in strategy, or --strategy ./${nameOrPath} for the file in ${process.cwd()}`,
    );
  }
  const file = path.resolve(nameOrPath);
  if (!fs.existsSync(file)) throw new Error(`strategy file not found: ${file}`);
  if (file.endsWith('.ts')) throw new Error(`${file}: compile TypeScript strategies first (put them in strategies/ and run npm run build), then pass the .js`);
  return file;
}

/**
 * A syntax error's place in `file` as "file:line:column: SyntaxError: ...", found by `node --check` in a child
 * process (an ES module's SyntaxError from import() carries no location). Undefined when the file itself parses
 * (the error is then in a module it imports, or in an import it names).
 */
export function syntaxErrorAt(file: string): string | undefined {
  const r = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: fs.readFileSync(file), encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0) return undefined;
  const lines = (r.stderr ?? '').split('\n');
  const at = /^\[stdin\]:(\d+)/.exec(lines[0] ?? '');
  const message = lines.find((l) => /^\w*Error: /.test(l));
  if (!at || !message) return undefined;
  const caret = lines.find((l, i) => i > 0 && /^\s*\^+\s*$/.test(l));
  return `${file}:${at[1]}${caret ? `:${caret.indexOf('^') + 1}` : ''}: ${message}`;
}

/** What is wrong with a module's default export as a strategy, or undefined when it is one. */
function exportProblem(mod: Record<string, unknown>): string | undefined {
  if (!('default' in mod)) {
    const names = Object.keys(mod);
    return `it has no default export${names.length ? ` (its exports: ${names.join(', ')})` : ''}`;
  }
  const def = mod.default as Record<string, unknown> | null;
  if (typeof def !== 'object' || def === null) return `its default export is ${def === null ? 'null' : `a ${typeof def}`}, not an object`;
  const wrong: string[] = [];
  if (typeof def.name !== 'string' || def.name === '') wrong.push('name (a string)');
  if (typeof def.params !== 'object' || def.params === null) wrong.push('params (an object)');
  if (typeof def.venues !== 'function') wrong.push('venues (a function)');
  if (typeof def.create !== 'function') wrong.push('create (a function)');
  return wrong.length ? `its default export lacks ${wrong.join(', ')}` : undefined;
}

/**
 * Imports a strategy module. Importing runs the module's top-level code: a strategy file is code you run,
 * with your rights, before its export can be checked (docs/strategies.md). Load errors name the file and
 * the place: line and column of a syntax error, the module's own frame of a top-level throw.
 */
export async function importStrategy(file: string): Promise<StrategyDefinition<ParamSpecs>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof SyntaxError) {
      const at = syntaxErrorAt(file);
      throw new Error(at ? `strategy ${at}` : `strategy ${file}: ${describeThrown(e)} (the file itself parses: the error is in a module it imports, or in a name it imports)`, { cause: e });
    }
    const frame = frameIn(e instanceof Error ? e.stack : undefined, file);
    throw new Error(`strategy ${file}: loading it failed: ${describeThrown(e)}${frame ? `\n    at ${frame}` : ''}`, { cause: e });
  }
  const problem = exportProblem(mod);
  if (problem) throw new Error(`strategy ${file}: ${problem}; the default export must be a strategy made with defineStrategy({ name, description, params, venues, create })`);
  return mod.default as StrategyDefinition<ParamSpecs>;
}

/** A built-in strategy by name, or a module path (.js/.mjs) exporting a StrategyDefinition as default. */
export async function loadStrategy(nameOrPath: string): Promise<StrategyDefinition<ParamSpecs>> {
  return importStrategy(strategyFile(nameOrPath));
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
 * One venue's settings over the run-wide ones: each setting the venue gives replaces the run-wide setting of
 * the same name, and nothing else; the legs then resolve as for the whole run (buildVenueLatency: feed, order
 * and response from their own setting, else `latency`; cancel and modify from their own, else the order leg).
 * So `--cancel-latency 300us --venue-latency x:order=2ms` gives x an order leg of 2ms whose cancels take
 * 300us, and `--feed-latency recorded --venue-latency x:latency=250us` keeps x's feed recorded.
 */
export function venueLatencyOptions(run: VenueLatencyOptions, venue: VenueLatencyOptions | undefined): VenueLatencyOptions {
  if (!venue) return run;
  const out: VenueLatencyOptions = { ...run };
  for (const k of Object.keys(venue) as (keyof VenueLatencyOptions)[]) if (venue[k] !== undefined) out[k] = venue[k];
  return out;
}

/** A mistake in the command line's options (exit code 2), as opposed to a run that failed (exit code 1). */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The CLI flag of each setting, and the legs it sets. */
const LATENCY_SETTINGS: Record<keyof VenueLatencyOptions, { flag: string; legs: LatencyLeg[] }> = {
  latency: { flag: '--latency', legs: ['feed', 'order', 'response'] },
  feed: { flag: '--feed-latency', legs: ['feed'] },
  order: { flag: '--order-latency', legs: ['order'] },
  response: { flag: '--response-latency', legs: ['response'] },
  cancel: { flag: '--cancel-latency', legs: ['order'] },
  modify: { flag: '--modify-latency', legs: ['order'] },
};

/**
 * Every latency text of the run, parsed once for each leg it sets before any data is read, so a bad unit or
 * form stops the command at once with the flag named. `recorded` is checked against a stand-in clock: whether
 * the dataset has a clock model is known only when its data is loaded.
 */
export function checkLatencyOptions(run: VenueLatencyOptions, venues: Record<string, VenueLatencyOptions> | undefined): void {
  const rng = createRng(1);
  const check = (opts: VenueLatencyOptions, name: (key: keyof VenueLatencyOptions, flag: string) => string) => {
    for (const [key, { flag, legs }] of Object.entries(LATENCY_SETTINGS) as [keyof VenueLatencyOptions, (typeof LATENCY_SETTINGS)['feed']][]) {
      const text = opts[key];
      if (text === undefined) continue;
      try {
        for (const leg of legs) parseLatency(text, leg, rng, 0, name(key, flag));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
  };
  check(run, (_key, flag) => flag);
  for (const [exchange, own] of Object.entries(venues ?? {})) check(own, (key) => `--venue-latency ${exchange}:${key}`);
}

/**
 * `--venue-latency` names exchanges; one that is not among the run's venues would change nothing, so it is an
 * error naming it, the run's venues and the dataset's exchanges.
 */
export function checkLatencyVenues(venueLatency: Record<string, VenueLatencyOptions> | undefined, runVenues: readonly VenueRef[], dataset: Dataset): void {
  const run = new Set(runVenues.map((v) => v.exchange));
  for (const exchange of Object.keys(venueLatency ?? {})) {
    if (run.has(exchange)) continue;
    const inDataset = [...new Set(dataset.streams.map((s) => s.exchange))];
    const where = inDataset.includes(exchange) ? `it is in the dataset, but the strategy does not trade it` : `the dataset has no venue "${exchange}"`;
    throw new UsageError(
      `--venue-latency ${exchange}: ${where} (this run's venues: ${runVenues.map((v) => `${v.exchange} ${v.symbol}`).join(', ')}; ` +
        `the dataset's: ${inDataset.join(', ')})`,
    );
  }
}

export interface PreparedRun {
  def: StrategyDefinition<ParamSpecs>;
  /** The strategy's module file. */
  file: string;
  params: Record<string, number | string | boolean>;
  venues: VenueRef[];
}

export async function prepare(opts: Pick<RunOptions, 'strategy' | 'params'>): Promise<PreparedRun> {
  const file = strategyFile(opts.strategy);
  const def = await importStrategy(file);
  const params = resolveParams(def.params, opts.params) as Record<string, number | string | boolean>;
  const origin: StrategyOrigin = { name: def.name, file, originNs: 0n };
  let venues: VenueRef[];
  try {
    venues = def.venues(params as never);
  } catch (e) {
    throw strategyFailure(e, 'venues()', origin, NaN);
  }
  return { def, file, params, venues };
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
  const strategy = createStrategy(prep, data.originNs);
  const result = runReplay({ data, strategy, venues: setups, rng });
  return { result, summary: summarize(prep, data, opts, setups, result) };
}

/** The strategy of a prepared run, guarded: what its code throws says the strategy, callback and time. */
export function createStrategy(prep: PreparedRun, originNs = 0n): Strategy {
  const origin: StrategyOrigin = { name: prep.def.name, file: prep.file, originNs };
  let strategy: Strategy;
  try {
    strategy = prep.def.create(prep.params as never);
  } catch (e) {
    throw strategyFailure(e, 'create()', origin, NaN);
  }
  return guardStrategy(strategy, origin);
}

export async function runOnce(opts: RunOptions): Promise<{ result: ReplayResult; summary: RunSummary; originNs: bigint }> {
  checkLatencyOptions(opts.latency, opts.venueLatency);
  const prep = await prepare(opts);
  if (opts.venueLatency && Object.keys(opts.venueLatency).length) checkLatencyVenues(opts.venueLatency, prep.venues, openDataset(opts.dataset));
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

