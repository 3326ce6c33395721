// Trading fees: a maker rate and a taker rate, each a fraction of the fill's notional.
//   spot / linear: notional = price × size × contractValue, in the quote currency (contractValue is 1 unless
//                  the venue's size unit is a contract of some base amount, as on OKX USDT swaps)
//   inverse:       notional = size × contractValue / price, in the base coin (size in contracts of
//                  contractValue quote units, e.g. 100 USD)
// fee = rate × notional; a negative rate is a rebate (maker only).

import { okxMarket } from '../exchanges/okx/instruments.js';
import type { FeeModel } from './types.js';

export interface FeeRates {
  /** Fraction of notional, e.g. 0.0002 = 0.02%; negative = rebate. */
  maker: number;
  taker: number;
}

/**
 * The exchanges' published base-tier (VIP 0 / lowest volume, no token discount) maker/taker rates, as listed
 * on their fee schedule pages: Binance spot 0.1%/0.1%, Binance USDⓈ-M and COIN-M futures 0.02%/0.05%, Bybit
 * spot 0.1%/0.1% and derivatives 0.02%/0.055%, OKX spot 0.08%/0.1% and swaps 0.02%/0.05%, Coinbase Advanced
 * Trade 0.4%/0.6%. Exchanges change these; override with parseFees when a run needs other rates.
 */
export const DEFAULT_FEE_RATES: Readonly<Record<string, FeeRates>> = {
  'binance-spot': { maker: 0.001, taker: 0.001 },
  'binance-usdm': { maker: 0.0002, taker: 0.0005 },
  'binance-coinm': { maker: 0.0002, taker: 0.0005 },
  'bybit-spot': { maker: 0.001, taker: 0.001 },
  'bybit-linear': { maker: 0.0002, taker: 0.00055 },
  'okx:spot': { maker: 0.0008, taker: 0.001 },
  'okx:swap': { maker: 0.0002, taker: 0.0005 },
  coinbase: { maker: 0.004, taker: 0.006 },
};

/** A rate as a percentage without float noise: 0.00055 -> "0.055%". */
export function formatRate(rate: number): string {
  return `${+(rate * 100).toPrecision(12)}%`;
}

/** fee = rate × notional, maker or taker rate by the fill's liquidity. */
export class ProportionalFees implements FeeModel {
  readonly description: string;
  constructor(
    readonly maker: number,
    readonly taker: number,
  ) {
    if (!Number.isFinite(maker) || !Number.isFinite(taker)) throw new Error(`fee rates must be finite numbers, got maker=${maker}, taker=${taker}`);
    this.description = `maker ${formatRate(maker)}, taker ${formatRate(taker)}`;
  }
  fee(price: number, size: number, maker: boolean, contractValue: number, inverse: boolean): number {
    const notional = inverse ? (size * contractValue) / price : price * size * contractValue;
    return (maker ? this.maker : this.taker) * notional;
  }
}

/** The base-tier rates of `exchange`; OKX needs the instId (`symbol`) to tell spot from swaps. */
export function defaultFeeRates(exchange: string, symbol?: string): FeeRates {
  let key = exchange;
  if (exchange === 'okx') {
    if (symbol === undefined) throw new Error('okx fees depend on the instrument (spot or swap): pass the instId, e.g. BTC-USDT or BTC-USDT-SWAP');
    const market = okxMarket(symbol);
    if (market === 'spot') key = 'okx:spot';
    else if (market === 'linear' || market === 'inverse') key = 'okx:swap';
    else throw new Error(`no default okx fees for instrument "${symbol}" (known: spot like BTC-USDT, swaps like BTC-USDT-SWAP, BTC-USD-SWAP)`);
  }
  const rates = DEFAULT_FEE_RATES[key];
  if (!rates) throw new Error(`no default fees for exchange "${exchange}" (known: binance-spot, binance-usdm, binance-coinm, bybit-spot, bybit-linear, okx, coinbase)`);
  return rates;
}

export function defaultFees(exchange: string, symbol?: string): ProportionalFees {
  const r = defaultFeeRates(exchange, symbol);
  return new ProportionalFees(r.maker, r.taker);
}

/** Largest accepted |rate|: 5% of notional. Guards against "0.02" meant as a percentage. */
const MAX_RATE = 0.05;

function parseRate(key: string, raw: string, text: string): number {
  const m = /^\s*([+-]?\d+(?:\.\d+)?)(?:e([+-]?\d+))?\s*(%|bps|bp)?\s*$/i.exec(raw);
  if (!m) throw new Error(`fees "${text}": ${key}="${raw}" is not a number (write a fraction like 0.0002, or 0.02%, or 2bp)`);
  // Shift the decimal exponent in the text, so that "0.02%" gives exactly the double nearest 0.0002.
  const shift = m[3] === '%' ? -2 : m[3] ? -4 : 0;
  const rate = Number(`${m[1]}e${Number(m[2] ?? 0) + shift}`);
  if (Math.abs(rate) > MAX_RATE) {
    throw new Error(`fees "${text}": ${key} = ${formatRate(rate)} is implausible (rates are fractions: 0.0002 means 0.02%; write 0.02% or 2bp)`);
  }
  return rate;
}

/**
 * Fee overrides: `maker=0.0002,taker=0.0005` (fractions of notional; `0.02%` and `2bp` are also accepted).
 * A key left out keeps its value from `defaults`; without defaults both are required. A negative maker rate is
 * a rebate; a negative taker rate is refused.
 */
export function parseFees(text: string, defaults?: FeeRates): ProportionalFees {
  let maker = defaults?.maker;
  let taker = defaults?.taker;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const kv = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(part);
    if (!kv) throw new Error(`fees "${text}": "${part.trim()}" is not name=rate (write maker=0.0002,taker=0.0005)`);
    const key = kv[1]!;
    if (key !== 'maker' && key !== 'taker') throw new Error(`fees "${text}": unknown name "${key}" (use maker and taker)`);
    if (seen.has(key)) throw new Error(`fees "${text}": ${key} given twice`);
    seen.add(key);
    const rate = parseRate(key, kv[2]!, text);
    if (key === 'maker') maker = rate;
    else taker = rate;
  }
  if (maker === undefined || taker === undefined) throw new Error(`fees "${text}": give both maker and taker, e.g. maker=0.0002,taker=0.0005`);
  if (taker < 0) throw new Error(`fees "${text}": a negative taker rate is not supported (only makers get rebates)`);
  return new ProportionalFees(maker, taker);
}
