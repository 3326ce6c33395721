// Bybit v5 contract specs, default fees and order rate limits (spot and linear).
import type { ContractSpec } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import { splitConcatenated, type Increments } from '../kit/contracts.js';
import type { BybitMarket } from './normalizer.js';

/**
 * tickSize (priceFilter) and basePrecision / qtyStep (lotSizeFilter) of the bundled symbols, from
 * GET /v5/market/instruments-info?category=spot|linear as published in 2024.
 */
const INCREMENTS: Record<BybitMarket, Readonly<Record<string, Increments>>> = {
  spot: { BTCUSDT: { tickSize: 0.01, lotSize: 0.000001 }, ETHUSDT: { tickSize: 0.01, lotSize: 0.00001 } },
  linear: { BTCUSDT: { tickSize: 0.1, lotSize: 0.001 }, ETHUSDT: { tickSize: 0.01, lotSize: 0.01 } },
};

export function bybitContractSpec(market: BybitMarket, symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  const exchange = `bybit-${market}`;
  const sym = symbol.trim().toUpperCase();
  let spec: ContractSpec;
  if (market === 'spot') {
    if (overrides.contractValue !== undefined) throw new Error(`${exchange} ${symbol} is spot: it has no contract size to override`);
    spec = { kind: 'spot', ...splitConcatenated(exchange, sym), contractValue: 1 };
  } else {
    // BTCUSDT (USDT perpetual), BTCPERP (USDC perpetual), BTC-27SEP24 (USDC delivery)
    const dated = /^([A-Z0-9]+)-\d{1,2}[A-Z]{3}\d{2}$/.exec(sym);
    if (dated) spec = { kind: 'linear', base: dated[1]!, quote: 'USDC', contractValue: 1 };
    else if (sym.length > 4 && sym.endsWith('PERP')) spec = { kind: 'linear', base: sym.slice(0, -4), quote: 'USDC', contractValue: 1 };
    else spec = { kind: 'linear', ...splitConcatenated(exchange, sym), contractValue: 1 };
    if (spec.quote !== 'USDT' && spec.quote !== 'USDC') throw new Error(`bybit-linear symbol "${symbol}" is not a USDT or USDC contract`);
    if (overrides.contractValue !== undefined) {
      if (!(overrides.contractValue > 0) || !Number.isFinite(overrides.contractValue)) throw new Error(`contract value must be > 0, got ${overrides.contractValue}`);
      spec.contractValue = overrides.contractValue;
    }
  }
  const inc = INCREMENTS[market][sym];
  return inc ? { ...spec, ...inc } : spec;
}

/** Base tier (VIP 0), from Bybit's fee schedule: spot 0.1%/0.1%, derivatives 0.02%/0.055%. */
export const BYBIT_FEES: Record<BybitMarket, FeeRates> = {
  spot: { maker: 0.001, taker: 0.001 },
  linear: { maker: 0.0002, taker: 0.00055 },
};

/** v5 create-order: 10 per second. */
export const BYBIT_RATE_LIMITS: readonly RateWindow[] = [{ limit: 10, windowNs: 1e9 }];
