// Queue-position models for resting limit orders on L2 data (docs/matching.md, "Queue position").
//
// L2 data shows only the total size at each price, so where the strategy's order stands in the queue has to
// be inferred. `ahead` is the quantity of *other* participants' orders in front of ours at its price; the
// recorded book never contains our own orders. Both models follow hftbacktest:
// - RiskAverseQueue: only trades move us forward; a shrinking level merely caps `ahead` at the new size.
// - ProbabilisticQueue: a decrease not explained by trades is split between the front and the back of the
//   queue with a probability that depends on how much is in front and behind.
// In both, an increase of the level is added behind us. SimulatedVenue subtracts the trades it already
// reported at the price from `prevSize` before calling onLevelChange, so a trade is never counted twice.
//
// These run per market event at the order's price: no allocation.

import type { QueueModel } from './types.js';

/** Conservative: the quantity ahead shrinks only by trades at the price (and is capped at the level's size). */
export class RiskAverseQueue implements QueueModel {
  readonly description = 'risk-averse';

  onJoin(levelSize: number): number {
    return levelSize > 0 ? levelSize : 0;
  }

  onTrade(ahead: number, size: number): number {
    const a = ahead - size;
    return a > 0 ? a : 0;
  }

  onLevelChange(ahead: number, _prevSize: number, newSize: number): number {
    const cap = newSize > 0 ? newSize : 0;
    return ahead < cap ? ahead : cap;
  }
}

/**
 * Probabilistic (hftbacktest's ProbQueueModel). When the level shrinks by `chg = prevSize - newSize` (trades
 * already subtracted by the caller), with front = ahead and back = max(0, prevSize - ahead):
 *
 *   pBehind = f(back) / (f(front) + f(back))            (0 when both are 0)
 *   ahead'  = front - (1 - pBehind)·chg + min(back - pBehind·chg, 0), clamped to [0, newSize]
 *
 * pBehind is the probability that a cancel came from behind us, so (1 - pBehind)·chg = f(front)/(f(front)+f(back))·chg
 * is taken from the front; whatever the back cannot absorb (the min term) also comes off the front.
 * An increase is added behind: ahead' = min(ahead, newSize).
 */
export class ProbabilisticQueue implements QueueModel {
  /**
   * @param f a non-negative, increasing weight with f(0) = 0, e.g. x => x * x
   * @param description the name reports show (parseQueueModel gives 'prob-power:n' / 'prob-log')
   */
  constructor(
    private readonly f: (x: number) => number,
    readonly description = 'prob-custom',
  ) {}

  /** f(x) = x^n. */
  static power(n: number): ProbabilisticQueue {
    if (!(Number.isFinite(n) && n > 0)) throw new Error(`queue model prob-power: the exponent must be a positive number, got ${n}`);
    if (n === 1) return new ProbabilisticQueue((x) => x, 'prob-power:1');
    if (n === 2) return new ProbabilisticQueue((x) => x * x, 'prob-power:2');
    if (n === 3) return new ProbabilisticQueue((x) => x * x * x, 'prob-power:3');
    return new ProbabilisticQueue((x) => Math.pow(x, n), `prob-power:${n}`);
  }

  /** f(x) = log(1 + x). */
  static log(): ProbabilisticQueue {
    return new ProbabilisticQueue((x) => Math.log1p(x), 'prob-log');
  }

  onJoin(levelSize: number): number {
    return levelSize > 0 ? levelSize : 0;
  }

  onTrade(ahead: number, size: number): number {
    const a = ahead - size;
    return a > 0 ? a : 0;
  }

  onLevelChange(ahead: number, prevSize: number, newSize: number): number {
    const cap = newSize > 0 ? newSize : 0;
    const chg = prevSize - newSize;
    if (!(chg > 0)) return ahead < cap ? ahead : cap;
    const front = ahead > 0 ? ahead : 0;
    const back = prevSize - front > 0 ? prevSize - front : 0;
    const ff = this.f(front);
    const fb = this.f(back);
    const pBehind = ff + fb > 0 ? fb / (ff + fb) : 0;
    const rest = back - pBehind * chg;
    let est = front - (1 - pBehind) * chg + (rest < 0 ? rest : 0);
    if (!(est > 0)) est = 0;
    return est < cap ? est : cap;
  }
}

export const QUEUE_MODEL_FORMS = "'risk-averse', 'prob-power:<n>' (n > 0, typically 1, 2 or 3) or 'prob-log'";

/** 'risk-averse' | 'prob-power:<n>' | 'prob-log' → a QueueModel. Throws naming the accepted forms. */
export function parseQueueModel(spec: string): QueueModel {
  const s = spec.trim();
  if (s === 'risk-averse') return new RiskAverseQueue();
  if (s === 'prob-log') return ProbabilisticQueue.log();
  if (s.startsWith('prob-power')) {
    const rest = s.slice('prob-power'.length);
    if (!rest.startsWith(':') || rest.length === 1) {
      throw new Error(`queue model "${spec}": prob-power needs an exponent, e.g. prob-power:2 (accepted: ${QUEUE_MODEL_FORMS})`);
    }
    const raw = rest.slice(1);
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new Error(`queue model "${spec}": the exponent must be a positive number, got "${raw}" (accepted: ${QUEUE_MODEL_FORMS})`);
    }
    return ProbabilisticQueue.power(n);
  }
  throw new Error(`unknown queue model "${spec}" (accepted: ${QUEUE_MODEL_FORMS})`);
}
