// The resolution of exchange times: the largest power of ten (ns, 1 s at most) dividing every time seen.
// The sweep warns with it (latencies the data cannot tell apart) and the audit widens its windows by it.
import { EventKind, Flag } from './types.js';

/** The resolutions tried, coarsest first: 1 s down to 1 ns, by powers of ten. */
export const COARSEST_RESOLUTION_NS = 1e9;

const MARKET_KINDS = (1 << EventKind.Trade) | (1 << EventKind.BookLevel) | (1 << EventKind.BookSnapshot) | (1 << EventKind.BestBidOffer);

/** Whether a row's exch_ts is an exchange time of its own: market rows (not markers) not flagged NoExchangeTime
 *  (Binance spot bookTicker has exch_ts = local_ts). */
export function hasOwnExchangeTime(kind: number, flags: number): boolean {
  return ((MARKET_KINDS >> kind) & 1) === 1 && (flags & Flag.NoExchangeTime) === 0;
}

/** The resolution `r` narrowed so that it also divides time `t` (ns from the dataset's origin, a whole second). */
export function narrowResolution(r: number, t: number): number {
  while (r > 1 && t % r !== 0) r /= 10;
  return r;
}
