// Coinbase Advanced Trade contract specs (spot products), default fees and order rate limits.
import type { ContractSpec } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import type { Increments } from '../kit/contracts.js';

/** quote_increment and base_increment of the bundled products, from GET /api/v3/brokerage/market/products (2024). */
const INCREMENTS: Readonly<Record<string, Increments>> = {
  'BTC-USD': { tickSize: 0.01, lotSize: 0.00000001 },
  'ETH-USD': { tickSize: 0.01, lotSize: 0.00000001 },
};

export function coinbaseContractSpec(symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  const sym = symbol.trim().toUpperCase();
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)$/.exec(sym);
  if (!m) throw new Error(`coinbase product "${symbol}" is not like BTC-USD`);
  if (overrides.contractValue !== undefined) throw new Error(`coinbase ${symbol} is spot: it has no contract size to override`);
  const spec: ContractSpec = { kind: 'spot', base: m[1]!, quote: m[2]!, contractValue: 1 };
  const inc = INCREMENTS[sym];
  return inc ? { ...spec, ...inc } : spec;
}

/** Lowest volume tier, from Coinbase Advanced Trade's fee page: 0.4% maker, 0.6% taker. */
export const COINBASE_FEES: FeeRates = { maker: 0.004, taker: 0.006 };

/** Advanced Trade private endpoints: 30 requests per second. */
export const COINBASE_RATE_LIMITS: readonly RateWindow[] = [{ limit: 30, windowNs: 1e9 }];
