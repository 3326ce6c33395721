// Bybit v5 contract specs, default fees and order rate limits (spot and linear).
import type { ContractSpec, RejectionReasons } from '../../simulation/accounting.js';
import type { FeeAssetRule, FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import { splitConcatenated, type Increments } from '../kit/contracts.js';
import type { BybitMarket } from './normalizer.js';

/**
 * tickSize (priceFilter), basePrecision / qtyStep and minOrderQty (lotSizeFilter), and minOrderAmt (spot, in
 * quote) / minNotionalValue (linear) of the bundled symbols, from GET /v5/market/instruments-info?category=
 * spot|linear as published in 2024. Bybit changes spot minimums often; the spot minOrderQty values are the
 * ones we read for mid-2024 and are the least sure numbers here.
 */
const INCREMENTS: Record<BybitMarket, Readonly<Record<string, Increments>>> = {
  spot: {
    BTCUSDT: { tickSize: 0.01, lotSize: 0.000001, minQty: 0.000048, minNotional: 1 },
    ETHUSDT: { tickSize: 0.01, lotSize: 0.00001, minQty: 0.00062, minNotional: 1 },
  },
  linear: {
    BTCUSDT: { tickSize: 0.1, lotSize: 0.001, minQty: 0.001, minNotional: 5 },
    ETHUSDT: { tickSize: 0.01, lotSize: 0.01, minQty: 0.01, minNotional: 5 },
  },
};

/**
 * Bybit v5 retCode and retMsg for an order off the grid or below a minimum. Spot (v5 error codes, "Spot
 * Trade"): 170134 "Order price decimal too long.", 170137 "Order volume decimal too long.", 170136 "Order
 * quantity lower than the minimum.", 170140 "Order value exceeded lower limit.". Linear: 110094 "Order does not
 * meet minimum order value." is documented; for a price or size off the grid and a size below minOrderQty we
 * found only the generic 10001 parameter error with these messages in user reports (unsure).
 */
const REJECTIONS: Record<BybitMarket, RejectionReasons> = {
  spot: {
    tick: '170134 Order price decimal too long.',
    lot: '170137 Order volume decimal too long.',
    minQty: '170136 Order quantity lower than the minimum.',
    minNotional: '170140 Order value exceeded lower limit.',
  },
  linear: {
    tick: '10001 params error: price invalid',
    lot: '10001 params error: qty invalid',
    minQty: '10001 The number of contracts exceeds minimum limit allowed',
    minNotional: '110094 Order does not meet minimum order value.',
  },
};

/** Spot: the fee is taken from the asset received (a buy pays in base); derivatives: the settlement coin. */
const FEE_ASSET: Record<BybitMarket, FeeAssetRule> = { spot: 'received', linear: 'quote' };

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
  return { ...spec, ...(inc ? { ...inc, rejections: REJECTIONS[market] } : {}), feeAsset: FEE_ASSET[market] };
}

/** Base tier (VIP 0), from Bybit's fee schedule: spot 0.1%/0.1%, derivatives 0.02%/0.055%. */
export const BYBIT_FEES: Record<BybitMarket, FeeRates> = {
  spot: { maker: 0.001, taker: 0.001 },
  linear: { maker: 0.0002, taker: 0.00055 },
};

/** v5 create-order: 10 per second. */
export const BYBIT_RATE_LIMITS: readonly RateWindow[] = [{ limit: 10, windowNs: 1e9 }];
