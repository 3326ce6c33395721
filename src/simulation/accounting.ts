// Per-venue accounting of a strategy's fills: balances, position, average entry, realized and unrealized PnL,
// fees, for three kinds of instrument:
//   spot     size in base; buying pays price × size quote; the fee is charged in quote, or, where the
//            exchange charges it in the asset received (spec.feeAsset 'received', e.g. Binance spot), a buy's
//            fee is taken from the base bought (fees.ts feeCharge()); either way it is counted in quote
//   linear   size in base (or in contracts of `contractValue` base, as on OKX USDT swaps); PnL and fees in quote
//   inverse  size in contracts of `contractValue` quote (e.g. 100 USD); PnL and fees in the base coin
//
// Average entry: on adding to a position, the size-weighted mean of prices (linear, spot) or the size-weighted
// harmonic mean (inverse: a contract's coin value is contractValue / price, so the entry that keeps
// Σ size / price is the harmonic one). Reducing realizes PnL against the entry and leaves it unchanged;
// crossing through zero (a flip) closes the whole position and opens the rest at the fill price.
//   linear/spot  realized = closed × contractValue × (exit - entry) × sign(position)      in quote
//   inverse      realized = closed × contractValue × (1/entry - 1/exit) × sign(position)  in coin
// For spot, position / entry / realized describe the net base bought since the start (a trading view); the
// balances are the cash truth and may go negative (the account does not refuse fills; the engine may).
//
// Every fill is also kept in compact columns so that reconcile() can recompute the account from the fill list
// with formulas of its own and report any difference from the incrementally kept state (float rounding only).

import type { Balances, OrderSide, Position } from '../strategy/api.js';
import { baseFee, feeCharge, type FeeAssetRule } from './fees.js';
import type { Fill } from './types.js';

export type ContractKind = 'spot' | 'linear' | 'inverse';

export interface ContractSpec {
  kind: ContractKind;
  base: string;
  quote: string;
  /**
   * Size of one unit of `size`: 1 for spot and most linear venues (size in base); for linear venues that
   * trade contracts, the base amount of one contract (OKX BTC-USDT-SWAP 0.01 BTC); for inverse, the quote
   * amount of one contract (100 USD for BTC, 10 USD for others).
   */
  contractValue: number;
  /** Price increment, where the exchange's published instrument spec for the symbol is known (the adapters in
   *  src/exchanges/<exchange>/contracts.ts hold the table and its source); absent otherwise. */
  tickSize?: number;
  /** Size increment in the venue's size unit (base, or contracts), as tickSize. */
  lotSize?: number;
  /** Smallest order size in the venue's size unit, where the exchange publishes one (Binance LOT_SIZE minQty,
   *  Bybit minOrderQty, OKX minSz). */
  minQty?: number;
  /** Smallest order value price × size × contractValue in quote (Binance NOTIONAL / MIN_NOTIONAL, Bybit
   *  minOrderAmt / minNotionalValue); absent where the exchange has none. */
  minNotional?: number;
  /** The exchange's own words when it refuses an order off the grid or below a minimum (order-rules.ts). */
  rejections?: RejectionReasons;
  /** Which asset a fill's fee is charged in (fees.ts); default 'quote' (the settlement currency). */
  feeAsset?: FeeAssetRule;
}

/** What the exchange answers (code and message, as it sends them) for each order rule an order breaks. */
export interface RejectionReasons {
  /** Limit price not a multiple of tickSize. */
  tick: string;
  /** Size not a multiple of lotSize. */
  lot: string;
  /** Size below minQty. */
  minQty: string;
  /** price × size × contractValue below minNotional. */
  minNotional: string;
}

/** The currency PnL, fees and equity are counted in: quote for spot and linear, base for inverse. */
export function settlementAsset(spec: ContractSpec): string {
  return spec.kind === 'inverse' ? spec.base : spec.quote;
}

/** Traded notional in the settlement currency: price × size × contractValue (spot, linear), or
 *  size × contractValue / price (inverse: contracts of contractValue quote, valued in the coin). Fee models
 *  take this, so the formula exists here only. */
export function notional(spec: Pick<ContractSpec, 'kind' | 'contractValue'>, price: number, size: number): number {
  return spec.kind === 'inverse' ? (size * spec.contractValue) / price : price * size * spec.contractValue;
}

/** The bookkeeping state one fill at a time updates. */
interface State {
  /** Settlement-currency balance: quote (spot, linear) or coin (inverse). */
  cash: number;
  /** Spot only: base balance. */
  base: number;
  /** Signed, in the venue's size unit. */
  position: number;
  /** Average entry price of the open position; 0 when flat. */
  entry: number;
  realized: number;
  fees: number;
}

/** Counts and sums over the fills, kept as they come. */
export interface FillSummary {
  fills: number;
  makerFills: number;
  /** Total size bought and sold, in the venue's size unit. */
  bought: number;
  sold: number;
  /** Traded notional in the settlement currency (price × size × cv, or size × cv / price for inverse). */
  notional: number;
  fees: number;
}

export interface Reconciliation {
  /** True when every difference is within float rounding of the sums (see RECONCILE_TOLERANCE). */
  ok: boolean;
  /** Kept minus recomputed, per quantity. */
  differences: {
    cash: number;
    base: number;
    position: number;
    averageEntry: number;
    realizedPnl: number;
    fees: number;
    fills: number;
    makerFills: number;
    bought: number;
    sold: number;
    notional: number;
  };
}

/** A position this small relative to the sizes involved is float dust from closing: it is set to 0. */
const DUST = 1e-12;

/**
 * Apply one fill to `s`: the single definition of the bookkeeping, used live (reconcile() checks it apart).
 * A fee taken from the base bought (fees.ts baseFee) is booked as a sale of that base at the fill price whose
 * proceeds pay the fee: the position and base balance shrink by it, the cash pays nothing, and the fee keeps
 * its quote value (so realized + unrealized - fees still equals the change of equity).
 */
function step(spec: ContractSpec, s: State, side: OrderSide, price: number, size: number, fee: number): void {
  move(spec, s, side, price, size, fee);
  const feeBase = spec.kind === 'spot' ? baseFee(spec.feeAsset, side, price, fee) : 0;
  if (feeBase > 0) move(spec, s, -1, price, feeBase, 0);
}

/** One trade of `size` at `price` with fee `fee` (in quote); the sale that pays a base fee has fee 0. */
function move(spec: ContractSpec, s: State, side: OrderSide, price: number, size: number, fee: number): void {
  const inverse = spec.kind === 'inverse';
  const cv = spec.contractValue;
  const pos = s.position;
  const abs = Math.abs(pos);
  let next = pos + side * size;
  if (Math.abs(next) <= DUST * Math.max(abs, size)) next = 0;
  let realized = 0;
  if (pos === 0) {
    s.entry = price;
  } else if (Math.sign(pos) === side) {
    s.entry = inverse ? (abs + size) / (abs / s.entry + size / price) : (abs * s.entry + size * price) / (abs + size);
  } else {
    const closed = Math.min(size, abs);
    const dir = pos > 0 ? 1 : -1;
    realized = inverse ? dir * closed * cv * (1 / s.entry - 1 / price) : dir * closed * cv * (price - s.entry);
    if (next !== 0 && Math.sign(next) !== dir) s.entry = price; // flipped: the rest opens at this price
  }
  if (next === 0) s.entry = 0;
  s.position = next;
  s.realized += realized;
  s.fees += fee;
  if (spec.kind === 'spot') {
    s.base += side * size;
    s.cash -= side * price * size + fee;
  } else {
    s.cash += realized - fee;
  }
}


function addToSummary(spec: ContractSpec, sum: FillSummary, side: OrderSide, price: number, size: number, fee: number, maker: boolean): void {
  sum.fills++;
  if (maker) sum.makerFills++;
  if (side > 0) sum.bought += size;
  else sum.sold += size;
  sum.notional += notional(spec, price, size);
  sum.fees += fee;
}

/** Growable columns of the fills applied. */
class FillColumns {
  length = 0;
  side = new Int8Array(64);
  maker = new Uint8Array(64);
  price = new Float64Array(64);
  size = new Float64Array(64);
  fee = new Float64Array(64);
  push(side: OrderSide, price: number, size: number, fee: number, maker: boolean): void {
    if (this.length === this.price.length) {
      const n = this.length * 2;
      const grow = <T extends Int8Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(n);
        b.set(a);
        return b;
      };
      this.side = grow(this.side, (k) => new Int8Array(k));
      this.maker = grow(this.maker, (k) => new Uint8Array(k));
      this.price = grow(this.price, (k) => new Float64Array(k));
      this.size = grow(this.size, (k) => new Float64Array(k));
      this.fee = grow(this.fee, (k) => new Float64Array(k));
    }
    const i = this.length++;
    this.side[i] = side;
    this.maker[i] = maker ? 1 : 0;
    this.price[i] = price;
    this.size[i] = size;
    this.fee[i] = fee;
  }
}

export type AccountFill = Pick<Fill, 'side' | 'price' | 'size' | 'fee' | 'maker'>;

/** One venue's account. */
export class Account {
  readonly spec: ContractSpec;
  private readonly initialCash: number;
  private readonly initialBase: number;
  private readonly s: State;
  private readonly sum: FillSummary = { fills: 0, makerFills: 0, bought: 0, sold: 0, notional: 0, fees: 0 };
  private readonly log = new FillColumns();
  /** Fees by the asset they were charged in (fees.ts feeCharge), in that asset. */
  private readonly feesIn: Record<string, number> = {};

  /**
   * `initial` balances by asset: spot takes base and quote (e.g. { BTC: 1, USDT: 10000 }), linear its quote,
   * inverse its base coin. Missing assets start at 0.
   */
  constructor(spec: ContractSpec, initial: Balances = {}) {
    this.spec = { ...spec };
    if (!(spec.contractValue > 0) || !Number.isFinite(spec.contractValue)) throw new Error(`contract value must be > 0, got ${spec.contractValue}`);
    const allowed = spec.kind === 'spot' ? [spec.base, spec.quote] : [settlementAsset(spec)];
    for (const asset of Object.keys(initial).sort()) {
      if (!allowed.includes(asset)) {
        throw new Error(`initial balance in ${asset}: a ${spec.kind} ${spec.base}/${spec.quote} account holds ${allowed.join(' and ')}`);
      }
      if (!Number.isFinite(initial[asset]!)) throw new Error(`initial balance of ${asset} must be a finite number, got ${initial[asset]}`);
    }
    this.initialCash = initial[settlementAsset(spec)] ?? 0;
    this.initialBase = spec.kind === 'spot' ? (initial[spec.base] ?? 0) : 0;
    this.s = { cash: this.initialCash, base: this.initialBase, position: 0, entry: 0, realized: 0, fees: 0 };
  }

  applyFill(fill: AccountFill): void {
    const { side, price, size, fee, maker } = fill;
    if (side !== 1 && side !== -1) throw new Error(`fill side must be 1 or -1, got ${side}`);
    if (!(price > 0) || !Number.isFinite(price)) throw new Error(`fill price must be > 0, got ${price}`);
    if (!(size > 0) || !Number.isFinite(size)) throw new Error(`fill size must be > 0, got ${size}`);
    if (!Number.isFinite(fee)) throw new Error(`fill fee must be a finite number, got ${fee}`);
    step(this.spec, this.s, side, price, size, fee);
    const charge = feeCharge(this.spec.feeAsset, { base: this.spec.base, settlement: settlementAsset(this.spec) }, side, price, fee);
    this.feesIn[charge.asset] = (this.feesIn[charge.asset] ?? 0) + charge.amount;
    addToSummary(this.spec, this.sum, side, price, size, fee, maker);
    this.log.push(side, price, size, fee, maker);
  }

  /** Signed position in the venue's size unit. */
  get position(): number {
    return this.s.position;
  }
  /** Average entry price of the open position (0 when flat). */
  get averageEntry(): number {
    return this.s.entry;
  }
  /** Realized PnL before fees, in the settlement currency. */
  get realizedPnl(): number {
    return this.s.realized;
  }
  /** Fees paid (negative: rebates received), in the settlement currency. */
  get fees(): number {
    return this.s.fees;
  }
  /** Fees by the asset the exchange charged them in, in that asset (e.g. { BTC: 0.00001, USDT: 0.6 }). */
  feesByAsset(): Balances {
    return { ...this.feesIn };
  }
  /** Balance of the settlement currency (quote, or coin for inverse). */
  get cash(): number {
    return this.s.cash;
  }
  /** Spot: base balance; 0 for derivatives. */
  get baseBalance(): number {
    return this.s.base;
  }
  get summary(): Readonly<FillSummary> {
    return { ...this.sum };
  }

  /** Unrealized PnL of the open position at `mid`, in the settlement currency. */
  mark(mid: number): number {
    const { position, entry } = this.s;
    if (position === 0) return 0;
    const cv = this.spec.contractValue;
    return this.spec.kind === 'inverse' ? position * cv * (1 / entry - 1 / mid) : position * cv * (mid - entry);
  }

  /** Account value at `mid` in the settlement currency: spot cash + base × mid; derivatives cash + unrealized. */
  equity(mid: number): number {
    return this.spec.kind === 'spot' ? this.s.cash + this.s.base * mid : this.s.cash + this.mark(mid);
  }

  /** The strategy's view of the position (unrealized at `mid`; 0 without a mid). */
  positionView(mid?: number): Position {
    return {
      size: this.s.position,
      averageEntry: this.s.entry,
      realizedPnl: this.s.realized,
      unrealizedPnl: mid === undefined || !Number.isFinite(mid) ? 0 : this.mark(mid),
      fees: this.s.fees,
    };
  }

  /** Balances by asset. */
  balances(): Balances {
    if (this.spec.kind === 'spot') return { [this.spec.base]: this.s.base, [this.spec.quote]: this.s.cash };
    return { [settlementAsset(this.spec)]: this.s.cash };
  }

  /**
   * Recompute the account from the initial balances and the stored fills with plain formulas of their own
   * (not step(), so a bookkeeping error there shows as a difference) and report kept - recomputed.
   */
  reconcile(): Reconciliation {
    const r = recomputeFromFills(this.spec, this.log, this.initialCash, this.initialBase);
    const differences = {
      cash: this.s.cash - r.cash,
      base: this.s.base - r.base,
      position: this.s.position - r.position,
      averageEntry: this.s.entry - r.entry,
      realizedPnl: this.s.realized - r.realized,
      fees: this.s.fees - r.fees,
      fills: this.sum.fills - r.fills,
      makerFills: this.sum.makerFills - r.makerFills,
      bought: this.sum.bought - r.bought,
      sold: this.sum.sold - r.sold,
      notional: this.sum.notional - r.notional,
    };
    // Both sides sum the same fills in different orders and forms: allow float rounding, relative to the
    // money and sizes that went through the account.
    const money = RECONCILE_TOLERANCE * (r.notional + Math.abs(this.initialCash) + 1);
    const sizes = RECONCILE_TOLERANCE * (r.bought + r.sold + Math.abs(this.initialBase) + 1);
    const price = RECONCILE_TOLERANCE * Math.max(Math.abs(this.s.entry), Math.abs(r.entry), 1);
    const within =
      Math.abs(differences.cash) <= money &&
      Math.abs(differences.base) <= sizes &&
      Math.abs(differences.position) <= sizes &&
      Math.abs(differences.averageEntry) <= price &&
      Math.abs(differences.realizedPnl) <= money &&
      Math.abs(differences.fees) <= money &&
      differences.fills === 0 &&
      differences.makerFills === 0 &&
      Math.abs(differences.bought) <= sizes &&
      Math.abs(differences.sold) <= sizes &&
      Math.abs(differences.notional) <= money &&
      Math.abs(this.sum.fees - this.s.fees) <= money;
    return { ok: within, differences };
  }
}

/** Relative float rounding allowed between the kept state and its recomputation. */
const RECONCILE_TOLERANCE = 1e-9;

/**
 * The account as the fill list says it must be, each quantity by a formula of its own (cv = contractValue):
 *   position = Σ side·size; fees = Σ fee; bought/sold/notional = plain sums
 *   spot: cash = initial - Σ side·price·size - Σ fee; base = initial + Σ side·size, where a fee taken from
 *         the base bought counts as a sale of fee / price base at the fill price (in position and both sums)
 *   entry = the size-weighted mean price (harmonic for inverse) of the fills that opened or added to the open
 *           position since it was last flat or flipped (reducing leaves the mean as it is)
 *   realized, from "realized + unrealized at any price = what the fills paid and received":
 *     spot/linear  realized = cv × (position × entry - Σ side·size·price)
 *     inverse      realized = cv × (Σ side·size / price - position / entry)
 *   derivatives: cash = initial + realized - fees
 */
function recomputeFromFills(spec: ContractSpec, f: FillColumns, initialCash: number, initialBase: number) {
  const inverse = spec.kind === 'inverse';
  const cv = spec.contractValue;
  let fills = 0;
  let makerFills = 0;
  let bought = 0;
  let sold = 0;
  let notional = 0;
  let fees = 0;
  let position = 0;
  let paidQuote = 0; // Σ side·size·price
  let paidCoin = 0; // Σ side·size / price
  // The open position's opening fills: Σ size and Σ size·price (inverse: Σ size/price).
  let openSize = 0;
  let openWeighted = 0;
  // One trade's effect on the position, the opening fills' sums and the money paid.
  const trade = (side: number, price: number, size: number): void => {
    paidQuote += side * size * price;
    paidCoin += (side * size) / price;
    const before = position;
    position += side * size;
    const weight = inverse ? size / price : size * price;
    if (openSize === 0 || Math.sign(before) === side) {
      openSize += size;
      openWeighted += weight;
    } else if (size > openSize * (1 + 1e-12)) {
      // Flipped: the part beyond the closed position opens at this price.
      const rest = size - openSize;
      openSize = rest;
      openWeighted = inverse ? rest / price : rest * price;
    } else if (size >= openSize * (1 - 1e-12)) {
      openSize = 0; // closed (up to float dust)
      openWeighted = 0;
      position = 0;
    } else {
      openWeighted *= (openSize - size) / openSize; // reduced: the mean stays
      openSize -= size;
    }
  };
  for (let i = 0; i < f.length; i++) {
    const side = f.side[i]!;
    const price = f.price[i]!;
    const size = f.size[i]!;
    const fee = f.fee[i]!;
    fills++;
    if (f.maker[i] === 1) makerFills++;
    if (side > 0) bought += size;
    else sold += size;
    notional += inverse ? (size * cv) / price : price * size * cv;
    fees += fee;
    trade(side, price, size);
    // A fee taken from the base bought: that base is sold at the fill price to pay it.
    if (spec.kind === 'spot' && spec.feeAsset === 'received' && side > 0 && fee > 0) trade(-1, price, fee / price);
  }
  const entry = openSize === 0 ? 0 : inverse ? openSize / openWeighted : openWeighted / openSize;
  const realized = inverse ? cv * (paidCoin - (position === 0 ? 0 : position / entry)) : cv * (position * entry - paidQuote);
  const cash = spec.kind === 'spot' ? initialCash - paidQuote - fees : initialCash + realized - fees;
  const base = spec.kind === 'spot' ? initialBase + position : initialBase;
  return { cash, base, position, entry, realized, fees, fills, makerFills, bought, sold, notional };
}
