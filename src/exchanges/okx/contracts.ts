// OKX contract specs, default fees and order rate limits (spot, swaps, futures: one exchange id).
import type { MarketType } from '../../data/types.js';
import type { ContractSpec, RejectionReasons } from '../../simulation/accounting.js';
import type { FeeRates } from '../../simulation/fees.js';
import type { RateWindow } from '../../simulation/rate-limit.js';
import { inverseContractUsd, type Increments } from '../kit/contracts.js';
import { okxMarket } from './instruments.js';

/** The instrument's market; throws for an instId OKX does not write like this. */
export function okxMarketOf(instId: string): MarketType {
  const m = okxMarket(instId);
  if (m === null) throw new Error(`"${instId}" is not an OKX instrument id (BTC-USDT, BTC-USDT-SWAP, BTC-USD-SWAP, BTC-USD-250926)`);
  return m;
}

/** OKX linear contract sizes (ctVal, in base) for the instruments we know; others must be given. */
const OKX_LINEAR_CT_VAL: Readonly<Record<string, number>> = {
  'BTC-USDT': 0.01,
  'ETH-USDT': 0.1,
};

/**
 * tickSz, lotSz and minSz of the bundled instruments, from GET /api/v5/public/instruments (instType SPOT, SWAP)
 * as published in 2024. Swap sizes are in contracts; the USDT swaps' step became 0.1 contract in April 2024
 * (OKX announcements "OKX to adjust the minimum order quantities for several futures", 2024-04-12: ETH/USDT,
 * 2024-04-19: BTC/USDT), and we take their minSz to be that step (unsure). OKX has no order value minimum.
 */
const INCREMENTS: Readonly<Record<string, Increments>> = {
  'BTC-USDT': { tickSize: 0.1, lotSize: 0.00000001, minQty: 0.00001 },
  'ETH-USDT': { tickSize: 0.01, lotSize: 0.000001, minQty: 0.0001 },
  'BTC-USDT-SWAP': { tickSize: 0.1, lotSize: 0.1, minQty: 0.1 },
  'ETH-USDT-SWAP': { tickSize: 0.01, lotSize: 0.1, minQty: 0.1 },
  'BTC-USD-SWAP': { tickSize: 0.1, lotSize: 1, minQty: 1 },
  'ETH-USD-SWAP': { tickSize: 0.01, lotSize: 1, minQty: 1 },
};

/**
 * OKX sCode and sMsg for an order off the grid or below minSz (v5 error codes, "Trade"): 51121 "Order quantity
 * must be a multiple of the lot size.", 51020 "Your order should meet or exceed the minimum order amount.". A
 * price off tickSz gets the generic 51000 "Parameter px error" (unsure: no dedicated code found).
 */
const REJECTIONS: RejectionReasons = {
  tick: '51000 Parameter px error',
  lot: '51121 Order quantity must be a multiple of the lot size.',
  minQty: '51020 Your order should meet or exceed the minimum order amount.',
  minNotional: '51020 Your order should meet or exceed the minimum order amount.',
};

export function okxContractSpec(symbol: string, overrides: { contractValue?: number } = {}): ContractSpec {
  const sym = symbol.trim().toUpperCase();
  const market = okxMarket(sym);
  const [base, quote] = sym.split('-') as [string, string];
  let spec: ContractSpec;
  if (market === 'spot') spec = { kind: 'spot', base, quote, contractValue: 1 };
  else if ((market === 'inverse' || market === 'linear' || market === 'future') && quote === 'USD') {
    spec = { kind: 'inverse', base, quote, contractValue: inverseContractUsd(base) };
  } else if (market === 'linear' || market === 'future') {
    const ctVal = overrides.contractValue ?? OKX_LINEAR_CT_VAL[`${base}-${quote}`];
    if (ctVal === undefined) {
      throw new Error(`okx "${symbol}": contract size (ctVal, in ${base}) unknown; give it explicitly (known: ${Object.keys(OKX_LINEAR_CT_VAL).join(', ')})`);
    }
    spec = { kind: 'linear', base, quote, contractValue: ctVal };
  } else throw new Error(`okx instrument "${symbol}" is not spot (BTC-USDT), a swap (BTC-USDT-SWAP, BTC-USD-SWAP) or a future`);
  if (overrides.contractValue !== undefined) {
    if (spec.kind === 'spot') throw new Error(`okx ${symbol} is spot: it has no contract size to override`);
    if (!(overrides.contractValue > 0) || !Number.isFinite(overrides.contractValue)) throw new Error(`contract value must be > 0, got ${overrides.contractValue}`);
    spec.contractValue = overrides.contractValue;
  }
  const inc = INCREMENTS[sym];
  // Spot fees are taken from the asset received (a buy pays in base); swaps charge the settlement currency.
  return { ...spec, ...(inc ? { ...inc, rejections: REJECTIONS } : {}), feeAsset: market === 'spot' ? 'received' : 'quote' };
}

/** Base tier (Lv1), from OKX's fee schedule: spot 0.08%/0.1%, swaps 0.02%/0.05%. Spot and swaps differ: pass the instId. */
export function okxFees(symbol: string | undefined): FeeRates {
  if (symbol === undefined) throw new Error('okx fees depend on the instrument (spot or swap): pass the instId, e.g. BTC-USDT or BTC-USDT-SWAP');
  const market = okxMarket(symbol);
  if (market === 'spot') return { maker: 0.0008, taker: 0.001 };
  if (market === 'linear' || market === 'inverse') return { maker: 0.0002, taker: 0.0005 };
  throw new Error(`no default okx fees for instrument "${symbol}" (known: spot like BTC-USDT, swaps like BTC-USDT-SWAP, BTC-USD-SWAP)`);
}

/** Place order: 60 per 2s (per instrument). */
export const OKX_RATE_LIMITS: readonly RateWindow[] = [{ limit: 60, windowNs: 2e9 }];
