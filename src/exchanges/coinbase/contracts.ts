// Coinbase Advanced Trade contract specs (spot products), default fees and order rate limits.
import type { ContractSpec, RejectionReasons } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import type { Increments } from '../kit/contracts.js';

/**
 * quote_increment, base_increment, base_min_size and quote_min_size (in USD) of the bundled products, from GET
 * /api/v3/brokerage/market/products (2024).
 */
const INCREMENTS: Readonly<Record<string, Increments>> = {
  'BTC-USD': { tickSize: 0.01, lotSize: 0.00000001, minQty: 0.00000001, minNotional: 1 },
  'ETH-USD': { tickSize: 0.01, lotSize: 0.00000001, minQty: 0.00000001, minNotional: 1 },
};

/**
 * Advanced Trade's create-order failure reasons (error_response.error, NewOrderFailureReason) for a price or
 * size with too many decimals; the names for a size or value below the minimum are the preview's ones without
 * their PREVIEW_ prefix (unsure). Coinbase charges every fee in the quote currency.
 */
const REJECTIONS: RejectionReasons = {
  tick: 'INVALID_PRICE_PRECISION',
  lot: 'INVALID_SIZE_PRECISION',
  minQty: 'INVALID_BASE_SIZE_TOO_SMALL',
  minNotional: 'INVALID_QUOTE_SIZE_TOO_SMALL',
};

export function coinbaseContractSpec(symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  const sym = symbol.trim().toUpperCase();
  const m = /^([A-Z0-9]+)-([A-Z0-9]+)$/.exec(sym);
  if (!m) throw new Error(`coinbase product "${symbol}" is not like BTC-USD`);
  if (overrides.contractValue !== undefined) throw new Error(`coinbase ${symbol} is spot: it has no contract size to override`);
  const spec: ContractSpec = { kind: 'spot', base: m[1]!, quote: m[2]!, contractValue: 1 };
  const inc = INCREMENTS[sym];
  return { ...spec, ...(inc ? { ...inc, rejections: REJECTIONS } : {}), feeAsset: 'quote' };
}

/** Lowest volume tier, from Coinbase Advanced Trade's fee page: 0.4% maker, 0.6% taker. */
export const COINBASE_FEES: FeeRates = { maker: 0.004, taker: 0.006 };

/** Advanced Trade private endpoints: 30 requests per second. */
export const COINBASE_RATE_LIMITS: readonly RateWindow[] = [{ limit: 30, windowNs: 1e9 }];
