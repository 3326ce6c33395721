// Every exchange Latency Lab knows, one adapter a line. The recorder, the simulator, the importers, the
// replay session and the CLI find exchanges here and nowhere else.
import { binanceCoinm, binanceSpot, binanceUsdm } from './binance/adapter.js';
import { bybitLinear, bybitSpot } from './bybit/adapter.js';
import { coinbase } from './coinbase/adapter.js';
import type { ExchangeAdapter, FeedAdapter, SimAdapter } from './kit/adapter.js';
import { okx } from './okx/adapter.js';
import type { ContractSpec } from '../simulation/accounting.js';
import { ProportionalFees, type FeeRates } from '../simulation/fees.js';
import { SlidingWindowRateLimiter } from '../simulation/rate-limit.js';

export const ADAPTERS: readonly ExchangeAdapter[] = [
  binanceSpot,
  binanceUsdm,
  binanceCoinm,
  bybitSpot,
  bybitLinear,
  okx,
  coinbase,
];

const BY_ID = new Map(ADAPTERS.map((a) => [a.id, a]));

/** Every exchange id, in registry order. */
export const EXCHANGE_IDS: readonly string[] = ADAPTERS.map((a) => a.id);
/** The exchanges the recorder can record. */
export const RECORD_EXCHANGES: readonly string[] = ADAPTERS.filter((a) => a.feed).map((a) => a.id);
/** The exchanges the simulator has a server side for. */
export const SIM_EXCHANGES: readonly string[] = ADAPTERS.filter((a) => a.sim).map((a) => a.id);

export function isKnownExchange(id: string): boolean {
  return BY_ID.has(id);
}

export function findAdapter(id: string): ExchangeAdapter | undefined {
  return BY_ID.get(id);
}

/** The adapter of `id`; `what` names the use in the error ("no contract specification"). */
export function adapter(id: string, what = 'no exchange'): ExchangeAdapter {
  const a = BY_ID.get(id);
  if (!a) throw new Error(`${what} for exchange "${id}" (known: ${EXCHANGE_IDS.join(', ')})`);
  return a;
}

export function feedAdapter(id: string): FeedAdapter {
  const f = BY_ID.get(id)?.feed;
  if (!f) throw new Error(`unknown exchange "${id}" (the recorder knows ${RECORD_EXCHANGES.join(', ')})`);
  return f;
}

export function simAdapter(id: string): SimAdapter | undefined {
  return BY_ID.get(id)?.sim;
}

export function contractSpec(exchange: string, symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  return adapter(exchange, 'no contract specification').contractSpec(symbol, overrides);
}

export function defaultFeeRates(exchange: string, symbol?: string): FeeRates {
  return adapter(exchange, 'no default fees').defaultFees(symbol);
}

export function defaultFees(exchange: string, symbol?: string): ProportionalFees {
  const r = defaultFeeRates(exchange, symbol);
  return new ProportionalFees(r.maker, r.taker);
}

export function defaultRateLimit(exchange: string): SlidingWindowRateLimiter {
  return new SlidingWindowRateLimiter(adapter(exchange, 'no default rate limit').rateLimits);
}
