// Order rate limits: sliding windows of "at most N orders in any window of W ns", all of which must pass.
//
// Semantics (per window): an order arriving at t is allowed if fewer than N allowed orders are counted, where
// an earlier order at s is counted while t - s < W. So with N orders at s..., an order exactly W ns after the
// oldest counted one (t - s == W) is allowed: that oldest one has just left the window. Refused orders are not
// counted (they never reached the matching engine). Each window keeps the times of its last N allowed
// orders in a ring buffer: fixed memory, O(windows) per request. Times must not decrease.
//
// What the engine counts is its choice (e.g. new orders only; Binance's ORDERS limits count new orders,
// OKX's 60/2s is per instrument for placing orders). The limiter is per venue; an exchange's per-account limits
// shared across symbols are not modelled. Each exchange's default windows are in its adapter
// (src/exchanges/<exchange>/).

import { formatDurationNs, parseDurationNs } from '../data/time.js';
import type { RateLimiter } from './types.js';

export interface RateWindow {
  /** Orders allowed per window. */
  limit: number;
  /** Window length in ns. */
  windowNs: number;
}

/** One window's ring of the times of the last `limit` allowed orders. */
class Ring {
  readonly times: Float64Array;
  head = 0; // index of the oldest counted time when full
  count = 0;
  constructor(readonly limit: number, readonly windowNs: number) {
    this.times = new Float64Array(limit);
  }
  /** Whether one more order at `t` fits. */
  fits(t: number): boolean {
    return this.count < this.limit || t - this.times[this.head]! >= this.windowNs;
  }
  push(t: number): void {
    if (this.count < this.limit) {
      this.times[(this.head + this.count) % this.limit] = t;
      this.count++;
    } else {
      this.times[this.head] = t; // the oldest has left the window (fits() said so): overwrite it
      this.head = (this.head + 1) % this.limit;
    }
  }
}

export class SlidingWindowRateLimiter implements RateLimiter {
  readonly description: string;
  readonly windows: readonly RateWindow[];
  private readonly rings: Ring[];
  private lastNs = -Infinity;

  constructor(windows: readonly RateWindow[]) {
    for (const w of windows) {
      if (!Number.isInteger(w.limit) || w.limit < 1) throw new Error(`rate limit must be a whole number of orders >= 1, got ${w.limit}`);
      if (!(w.windowNs > 0) || !Number.isFinite(w.windowNs)) throw new Error(`rate limit window must be a duration > 0, got ${w.windowNs} ns`);
    }
    this.windows = windows.map((w) => ({ ...w }));
    this.rings = windows.map((w) => new Ring(w.limit, w.windowNs));
    this.description = windows.length === 0 ? 'none' : windows.map((w) => `${w.limit} per ${formatDurationNs(w.windowNs)}`).join(' and ');
  }

  allow(atNs: number): boolean {
    if (!(atNs >= this.lastNs)) throw new Error(`rate limiter: time went backwards (${atNs} ns after ${this.lastNs} ns)`);
    this.lastNs = atNs;
    for (const r of this.rings) if (!r.fits(atNs)) return false;
    for (const r of this.rings) r.push(atNs);
    return true;
  }
}

/** `50/10s`, `300/10s,1200/1m`, or `none` (no limit). */
export function parseRateLimit(text: string): SlidingWindowRateLimiter {
  const s = text.trim();
  if (s === 'none') return new SlidingWindowRateLimiter([]);
  const windows: RateWindow[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*\/\s*(.+?)\s*$/.exec(part);
    if (!m) throw new Error(`rate limit "${text}": "${part.trim()}" is not orders/window (write 50/10s, 300/10s,1200/1m or none)`);
    let windowNs: number;
    try {
      windowNs = parseDurationNs(m[2]!);
    } catch (e) {
      throw new Error(`rate limit "${text}": ${(e as Error).message}`);
    }
    windows.push({ limit: Number(m[1]), windowNs });
  }
  return new SlidingWindowRateLimiter(windows);
}
