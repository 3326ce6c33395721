// Binance contract specs, default fees and order rate limits (spot, USD-M, COIN-M).
import type { ContractSpec } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import { inverseContractUsd, splitConcatenated, withContractValue, type Increments } from '../kit/contracts.js';
import type { BinanceExchange } from './markets.js';


/**
 * tickSize (PRICE_FILTER) and stepSize (LOT_SIZE) of the bundled symbols, from exchangeInfo
 * (GET /api/v3/exchangeInfo, /fapi/v1/exchangeInfo, /dapi/v1/exchangeInfo) as published in 2024.
 * COIN-M sizes are in contracts.
 */
const INCREMENTS: Record<BinanceExchange, Readonly<Record<string, Increments>>> = {
  'binance-spot': { BTCUSDT: { tickSize: 0.01, lotSize: 0.00001 }, ETHUSDT: { tickSize: 0.01, lotSize: 0.0001 } },
  'binance-usdm': { BTCUSDT: { tickSize: 0.1, lotSize: 0.001 }, ETHUSDT: { tickSize: 0.01, lotSize: 0.001 } },
  'binance-coinm': { BTCUSD_PERP: { tickSize: 0.1, lotSize: 1 }, ETHUSD_PERP: { tickSize: 0.01, lotSize: 1 } },
};

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
  if (inc) spec = { ...spec, ...inc };
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
