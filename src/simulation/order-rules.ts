// Exchange order rules: the price grid (tick size), the size grid (lot size), the minimum size and the minimum
// order value an exchange enforces on every new order and every modify, before the order reaches its book.
// The numbers and the exchange's own rejection reasons are data in each exchange's contract spec
// (src/exchanges/<exchange>/contracts.ts); this module only applies them. None of the four exchanges rounds an
// order onto its grid: each refuses it (docs/matching.md, "Exchange rules"), so the simulated one refuses too.
//
// Checks in the order Binance lists its filters (price, then size, then value); an order breaking several
// rules gets the first reason. A market order has no price: its value is not checked (Binance checks it
// against a recent average price we do not model; docs/matching.md says so).
import type { Instrument, OrderSide, OrderType } from '../strategy/api.js';
import { settlementAsset, type ContractSpec } from './accounting.js';
import { feeCharge } from './fees.js';

/** Whether an order may enter the exchange; the exchange's reason when not. */
export interface OrderRules {
  readonly description: string;
  /** `price` is NaN for market orders. Returns undefined when the order passes. */
  check(side: OrderSide, type: OrderType, price: number, size: number): string | undefined;
}

/** A value within this fraction of a step from a multiple of the step is on the grid (decimal sizes in doubles). */
const GRID_EPS = 1e-6;

/** Whether `x` is a whole multiple of `step` (up to float noise). */
export function onGrid(x: number, step: number): boolean {
  const q = x / step;
  return Math.abs(q - Math.round(q)) <= GRID_EPS;
}

/** Decimal places of a step: 0.01 -> 2, 0.00001 -> 5, 1e-8 -> 8, 5 -> 0. */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 15; d++) {
    const scaled = step * 10 ** d;
    if (scaled >= 1 - GRID_EPS && Math.abs(scaled - Math.round(scaled)) <= GRID_EPS * scaled) return d;
  }
  return 15;
}

/** The largest multiple of `step` at or below `x`, written with the step's decimals (0 or no step: x). */
export function floorToStep(x: number, step: number): number {
  if (!(step > 0)) return x;
  return Number((Math.floor(x / step + GRID_EPS) * step).toFixed(stepDecimals(step)));
}

/** The smallest multiple of `step` at or above `x`, as floorToStep. */
export function ceilToStep(x: number, step: number): number {
  if (!(step > 0)) return x;
  return Number((Math.ceil(x / step - GRID_EPS) * step).toFixed(stepDecimals(step)));
}

/** No rules known for the instrument: every order passes. */
export const NO_ORDER_RULES: OrderRules = { description: 'none', check: () => undefined };

/**
 * The rules of `spec`, or NO_ORDER_RULES when it carries no grid (a symbol whose published spec the adapter
 * does not hold). A spec with a grid and no reasons gets generic ones ('price_off_tick', ...).
 */
export function orderRulesFor(spec: ContractSpec): OrderRules {
  const tick = spec.tickSize ?? 0;
  const lot = spec.lotSize ?? 0;
  const minQty = spec.minQty ?? 0;
  const minNotional = spec.minNotional ?? 0;
  if (!(tick > 0) && !(lot > 0) && !(minQty > 0) && !(minNotional > 0)) return NO_ORDER_RULES;
  const why = spec.rejections ?? { tick: 'price_off_tick', lot: 'size_off_lot', minQty: 'size_below_minimum', minNotional: 'notional_below_minimum' };
  const cv = spec.contractValue;
  const parts = [tick > 0 && `tick ${tick}`, lot > 0 && `lot ${lot}`, minQty > 0 && `min size ${minQty}`, minNotional > 0 && `min notional ${minNotional} ${spec.quote}`];
  return {
    description: parts.filter(Boolean).join(', '),
    check(_side, type, price, size) {
      if (type !== 'market' && tick > 0 && !onGrid(price, tick)) return why.tick;
      if (lot > 0 && !onGrid(size, lot)) return why.lot;
      // The minimum compares decimals: a size a float hair below it is at it.
      if (minQty > 0 && size < minQty * (1 - GRID_EPS)) return why.minQty;
      if (type !== 'market' && minNotional > 0 && price * size * cv < minNotional * (1 - GRID_EPS)) return why.minNotional;
      return undefined;
    },
  };
}

/** The Strategy API's view of an instrument's rules (strategy/api.ts Instrument), from its contract spec. */
export function instrumentOf(spec: ContractSpec): Instrument {
  const tickSize = spec.tickSize ?? 0;
  const lotSize = spec.lotSize ?? 0;
  const settlement = settlementAsset(spec);
  return {
    base: spec.base,
    quote: spec.quote,
    tickSize,
    lotSize,
    minQty: spec.minQty ?? 0,
    minNotional: spec.minNotional ?? 0,
    priceDecimals: tickSize > 0 ? stepDecimals(tickSize) : NaN,
    sizeDecimals: lotSize > 0 ? stepDecimals(lotSize) : NaN,
    feeAsset: (side) => feeCharge(spec.feeAsset, { base: spec.base, settlement }, side, 1, 1).asset,
    priceDown: (p) => floorToStep(p, tickSize),
    priceUp: (p) => ceilToStep(p, tickSize),
    sizeDown: (s) => floorToStep(s, lotSize),
  };
}
