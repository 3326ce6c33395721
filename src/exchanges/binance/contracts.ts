// Binance contract specs, default fees and order rate limits (spot, USD-M, COIN-M).
import type { ContractSpec, RejectionReasons } from '../../simulation/accounting.js';
import type { FeeAssetRule, FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import { inverseContractUsd, splitConcatenated, withContractValue, type Increments } from '../kit/contracts.js';
import type { BinanceExchange } from './markets.js';


/**
 * tickSize (PRICE_FILTER), stepSize and minQty (LOT_SIZE), and minNotional (spot NOTIONAL, USDⓈ-M
 * MIN_NOTIONAL "notional") of the bundled symbols, from exchangeInfo (GET /api/v3/exchangeInfo,
 * /fapi/v1/exchangeInfo, /dapi/v1/exchangeInfo) as published in 2024. COIN-M sizes are in contracts and have
 * no value minimum.
 */
const INCREMENTS: Record<BinanceExchange, Readonly<Record<string, Increments>>> = {
  'binance-spot': {
    BTCUSDT: { tickSize: 0.01, lotSize: 0.00001, minQty: 0.00001, minNotional: 5 },
    ETHUSDT: { tickSize: 0.01, lotSize: 0.0001, minQty: 0.0001, minNotional: 5 },
  },
  'binance-usdm': {
    BTCUSDT: { tickSize: 0.1, lotSize: 0.001, minQty: 0.001, minNotional: 100 },
    ETHUSDT: { tickSize: 0.01, lotSize: 0.001, minQty: 0.001, minNotional: 20 },
  },
  'binance-coinm': { BTCUSD_PERP: { tickSize: 0.1, lotSize: 1, minQty: 1 }, ETHUSD_PERP: { tickSize: 0.01, lotSize: 1, minQty: 1 } },
};

/**
 * What Binance answers for an order off the grid or below a minimum (code and msg of the error payload).
 * Spot: every filter failure is -1013 "Filter failure: <FILTER>" (spot errors doc, "Messages for -1010,
 * -2010, -2011"); the step and the minimum size are both LOT_SIZE. USDⓈ-M and COIN-M (futures error codes):
 * -4014 off the tick; -4004 below minQty; -4164 below the notional; a size off the step gets -1111 "Precision
 * is over the maximum defined for this asset." (reported by users for quantities with too many decimals; the
 * docs give no code for a size with few decimals that is still off a step like 0.001: unsure).
 */
function binanceRejections(exchange: BinanceExchange, minNotional: number | undefined): RejectionReasons {
  if (exchange === 'binance-spot') {
    return {
      tick: '-1013 Filter failure: PRICE_FILTER',
      lot: '-1013 Filter failure: LOT_SIZE',
      minQty: '-1013 Filter failure: LOT_SIZE',
      minNotional: '-1013 Filter failure: NOTIONAL',
    };
  }
  return {
    tick: '-4014 Price not increased by tick size.',
    lot: '-1111 Precision is over the maximum defined for this asset.',
    minQty: '-4004 Quantity less than min quantity.',
    minNotional: `-4164 Order's notional must be no smaller than ${minNotional ?? 0} (unless you choose reduce only).`,
  };
}

/**
 * Spot charges a fill's commission in the asset the fill gives the account (a buy pays in base, a sell in
 * quote) unless the account pays with BNB, which is not modelled; futures charge the margin asset (quote for
 * USDⓈ-M, the coin for COIN-M).
 */
const FEE_ASSET: Record<BinanceExchange, FeeAssetRule> = { 'binance-spot': 'received', 'binance-usdm': 'quote', 'binance-coinm': 'quote' };

export function binanceContractSpec(exchange: BinanceExchange, symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  const sym = symbol.trim().toUpperCase();
  let spec: ContractSpec;
  if (exchange === 'binance-spot') spec = { kind: 'spot', ...splitConcatenated(exchange, sym), contractValue: 1 };
  else if (exchange === 'binance-usdm') {
    // BTCUSDT perpetual, BTCUSDT_240927 delivery
    const m = /^([A-Z0-9]+?)(?:_\d{6})?$/.exec(sym);
    if (!m) throw new Error(`binance-usdm symbol "${symbol}" is not like BTCUSDT or BTCUSDT_240927`);
    spec = { kind: 'linear', ...splitConcatenated(exchange, m[1]!), contractValue: 1 };
  } else {
    // BTCUSD_PERP perpetual, BTCUSD_240927 delivery
    const m = /^([A-Z0-9]+)USD_(?:PERP|\d{6})$/.exec(sym);
    if (!m) throw new Error(`binance-coinm symbol "${symbol}" is not like BTCUSD_PERP or BTCUSD_240927`);
    spec = { kind: 'inverse', base: m[1]!, quote: 'USD', contractValue: inverseContractUsd(m[1]!) };
  }
  const inc = INCREMENTS[exchange][sym];
  if (inc) spec = { ...spec, ...inc, rejections: binanceRejections(exchange, inc.minNotional) };
  spec.feeAsset = FEE_ASSET[exchange];
  return withContractValue(exchange, symbol, spec, overrides.contractValue);
}

/** Base tier (VIP 0, no BNB discount), from Binance's fee schedule: spot 0.1%/0.1%, USDⓈ-M and COIN-M 0.02%/0.05%. */
export const BINANCE_FEES: Record<BinanceExchange, FeeRates> = {
  'binance-spot': { maker: 0.001, taker: 0.001 },
  'binance-usdm': { maker: 0.0002, taker: 0.0005 },
  'binance-coinm': { maker: 0.0002, taker: 0.0005 },
};

/** ORDERS limits from the API docs: spot 50 per 10s; USDⓈ-M and COIN-M 300 per 10s and 1200 per minute. */
export const BINANCE_RATE_LIMITS: Record<BinanceExchange, readonly RateWindow[]> = {
  'binance-spot': [{ limit: 50, windowNs: 10e9 }],
  'binance-usdm': [
    { limit: 300, windowNs: 10e9 },
    { limit: 1200, windowNs: 60e9 },
  ],
  'binance-coinm': [
    { limit: 300, windowNs: 10e9 },
    { limit: 1200, windowNs: 60e9 },
  ],
};
