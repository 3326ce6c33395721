// Latency models: how long a message takes on each leg of a connection.
//   feed      exchange -> strategy (market data)
//   order     strategy -> exchange (new / cancel / modify, each with its own model)
//   response  exchange -> strategy (acknowledgements, fills, rejections)
//
// Texts (CLI and config):
//   "0", "250us", "1ms", "1.5ms", "2s"    constant (units ns, us, µs, ms, s; a bare 0 is allowed; no m or h:
//                                          "5m" is refused as a likely typo for 5ms)
//   "lognormal:p50=1ms,p99=5ms"            log-normal with that median and 99th percentile
//   "recorded"                             feed leg only: the dataset's own local time, less the recorder's
//                                          clock model (offset and drift, src/data/clock-model.ts)
//
// Random latencies are drawn independently per message, so they can reorder messages: an order sent 10us
// after another may reach the exchange first, as on a real network (across connections; a single TCP
// connection would keep them in order). The engine delivers by arrival time and does not undo this.

import { ClockModel } from '../data/clock-model.js';
import { formatDurationNs } from '../data/time.js';
import { normal } from './random.js';
import type { LatencyModel, OrderOp, Rng, VenueLatency } from './types.js';

export type LatencyLeg = 'feed' | 'order' | 'response';

/** The standard normal's 99th percentile, Φ⁻¹(0.99). */
export const Z99 = 2.3263478740408408;

/** The same latency for every message. */
export class ConstantLatency implements LatencyModel {
  readonly description: string;
  readonly constantNs: number;
  constructor(readonly ns: number) {
    if (!(ns >= 0) || !Number.isFinite(ns)) throw new Error(`latency must be a finite duration >= 0, got ${ns} ns`);
    this.description = formatDurationNs(ns);
    this.constantNs = ns;
  }
  sample(_atNs?: number, _recordedNs?: number): number {
    return this.ns;
  }
}

/**
 * Log-normal latency given its median and 99th percentile: ln(latency) ~ N(mu, sigma²) with mu = ln(p50) and
 * sigma = (ln(p99) - ln(p50)) / Φ⁻¹(0.99). Each sample is rounded to whole ns and uses two draws of `rng`.
 */
export class LognormalLatency implements LatencyModel {
  readonly description: string;
  readonly mu: number;
  readonly sigma: number;
  constructor(
    readonly p50Ns: number,
    readonly p99Ns: number,
    private readonly rng: Rng,
  ) {
    if (!(p50Ns > 0) || !Number.isFinite(p50Ns)) throw new Error(`lognormal latency needs p50 > 0, got ${formatDurationNs(p50Ns)}`);
    if (!(p99Ns >= p50Ns) || !Number.isFinite(p99Ns)) {
      throw new Error(`lognormal latency needs p99 >= p50, got p50=${formatDurationNs(p50Ns)}, p99=${formatDurationNs(p99Ns)}`);
    }
    this.mu = Math.log(p50Ns);
    this.sigma = (Math.log(p99Ns) - Math.log(p50Ns)) / Z99;
    this.description = `lognormal(p50=${formatDurationNs(p50Ns)}, p99=${formatDurationNs(p99Ns)})`;
  }
  sample(_atNs?: number, _recordedNs?: number): number {
    return Math.round(Math.exp(this.mu + this.sigma * normal(this.rng)));
  }
}

/** Milliseconds with up to 3 decimals: -1272.402ms. */
function formatMs(ns: number): string {
  return `${+(ns / 1e6).toFixed(3)}ms`;
}

/**
 * Feed latency as recorded: a row received at local time L reaches the strategy at L - offset(L), the recorder's
 * clock model (src/data/clock-model.ts: one model for every stream of the recorder, with its drift), and never
 * before the time the latency is counted from. One correction for all venues keeps the recorder's receive
 * order across venues. `sample(at, recorded)`: `at` is the time the latency counts from, `recorded` the row's
 * local time - `at`; returns max(0, L - offset(L) - at).
 */
export class RecordedLatency implements LatencyModel {
  readonly description: string;
  readonly clock: ClockModel;
  constructor(clock: ClockModel | number) {
    if (typeof clock === 'number') {
      if (!Number.isFinite(clock)) throw new Error(`recorded latency needs a finite clock offset, got ${clock}`);
      clock = ClockModel.constant(clock);
    }
    this.clock = clock;
    const c = clock;
    const constant = c.knots === 1;
    this.description = constant
      ? `recorded (clock offset ${formatMs(c.offsetNs[0]!)} removed)`
      : `recorded (recorder clock ${c.knots > 0 ? `${formatMs(c.offsetNs[0]!)} drifting ${formatMs(c.driftNsPerHour)}/h` : 'unknown'} removed)`;
  }
  sample(atNs: number, recordedNs: number): number {
    if (recordedNs !== recordedNs) {
      throw new Error('recorded latency: the event has no recorded local - exchange time (NaN); recorded latency works on the feed leg only');
    }
    const local = atNs + recordedNs;
    const d = local - this.clock.offsetAt(local) - atNs;
    return d > 0 ? d : 0;
  }
}

const FORMS = 'a duration (0, 250us, 1ms, 1.5ms, 2s), lognormal:p50=1ms,p99=5ms, or recorded (feed only)';

/** The units a latency may be written in, with their size in ns. Minutes and hours are not among them: a
 *  latency of minutes is never meant, and `5m` is one letter away from `5ms`. */
export const LATENCY_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/**
 * A latency duration in ns: a number with a unit from LATENCY_UNITS (`500ns`, `250us`, `250µs`, `1.5ms`, `2s`),
 * or a bare `0`. `what` names the option in the error (e.g. `--latency`, `order latency`).
 */
export function parseLatencyDurationNs(text: string, what: string): number {
  const s = text.trim();
  if (/^-\s*\d/.test(s)) throw new Error(`${what} "${text}": a latency cannot be negative`);
  const m = /^(\d+(?:\.\d+)?)\s*(\S*)$/.exec(s);
  if (!m) throw new Error(`${what} "${text}": not a duration (use a number with a unit: 0, 500ns, 250us, 1ms, 1.5ms, 2s)`);
  const value = Number(m[1]);
  const unit = m[2]!;
  if (unit === '') {
    if (value === 0) return 0;
    throw new Error(`${what} "${text}": has no unit (use ns, us, ms or s, e.g. ${m[1]}ms)`);
  }
  if (unit === 'm' || unit === 'min') {
    throw new Error(`${what} "${text}": "${unit}" would be minutes, which is not a latency unit; did you mean ${m[1]}ms? (units: ns, us, ms, s)`);
  }
  if (unit === 'h') throw new Error(`${what} "${text}": hours are not a latency unit (units: ns, us, ms, s)`);
  const scale = LATENCY_UNITS[unit];
  if (scale === undefined) throw new Error(`${what} "${text}": unknown unit "${unit}" (use ns, us, ms or s)`);
  const ns = Math.round(value * scale);
  if (!Number.isSafeInteger(ns)) throw new Error(`${what} "${text}": too large to count in whole nanoseconds`);
  return ns;
}

/**
 * A latency model from its text. `rng` serves random models; `clock` (the recorder's clock model, or a constant
 * offset in ns: recorder clock minus exchange clock) is required by `recorded`, which only the feed leg accepts.
 * `what` names the setting in errors (the CLI passes its flag, e.g. `--cancel-latency`).
 */
export function parseLatency(text: string, leg: LatencyLeg, rng: Rng, clock?: ClockModel | number, what = `${leg} latency`): LatencyModel {
  const s = text.trim();
  if (s === '') throw new Error(`${what} is empty (use ${FORMS})`);
  if (s === 'recorded') {
    if (leg !== 'feed') {
      throw new Error(`${what} "recorded": recorded latency exists only for the feed leg (the dataset records market data delays, not order round trips); use a duration or lognormal`);
    }
    if (clock === undefined || (typeof clock === 'number' && !Number.isFinite(clock))) {
      throw new Error(`${what} "recorded" needs the dataset's estimated clock offset (its recorder clock model), and none is known`);
    }
    return new RecordedLatency(clock);
  }
  if (s.startsWith('lognormal')) {
    const m = /^lognormal\s*:\s*(.*)$/.exec(s);
    if (!m) throw new Error(`${what} "${text}": write lognormal:p50=<duration>,p99=<duration>, e.g. lognormal:p50=1ms,p99=5ms`);
    const params = new Map<string, number>();
    for (const part of m[1]!.split(',')) {
      const kv = /^\s*([A-Za-z0-9]+)\s*=\s*(.+?)\s*$/.exec(part);
      if (!kv) throw new Error(`${what} "${text}": "${part.trim()}" is not name=duration`);
      const key = kv[1]!;
      if (key !== 'p50' && key !== 'p99') throw new Error(`${what} "${text}": unknown parameter "${key}" (lognormal takes p50 and p99)`);
      if (params.has(key)) throw new Error(`${what} "${text}": ${key} given twice`);
      params.set(key, parseLatencyDurationNs(kv[2]!, `${what} ${key}`));
    }
    const p50 = params.get('p50');
    const p99 = params.get('p99');
    if (p50 === undefined || p99 === undefined) throw new Error(`${what} "${text}": lognormal needs both p50 and p99, e.g. lognormal:p50=1ms,p99=5ms`);
    if (p50 <= 0) throw new Error(`${what} "${text}": p50 must be > 0`);
    if (p99 < p50) throw new Error(`${what} "${text}": p99 (${formatDurationNs(p99)}) is below p50 (${formatDurationNs(p50)})`);
    return new LognormalLatency(p50, p99, rng);
  }
  if (!/^[-\d]/.test(s)) throw new Error(`${what} "${text}": unknown form (use ${FORMS})`);
  return new ConstantLatency(parseLatencyDurationNs(s, what));
}

export interface VenueLatencyOptions {
  /** One-way distance: sets feed, order and response. */
  latency?: string;
  feed?: string;
  /** Sets new, cancel and modify. */
  order?: string;
  response?: string;
  cancel?: string;
  modify?: string;
}

/**
 * The latencies of one venue's connection. `latency` sets all three legs, `feed`/`order`/`response` override
 * it per leg, `order` sets new/cancel/modify and `cancel`/`modify` override per operation. Unset means 0.
 * Each leg (and operation) gets its own model instance; random ones share `rng`.
 */
export function buildVenueLatency(opts: VenueLatencyOptions, rng: Rng, clock?: ClockModel | number): VenueLatency {
  const pick = (...texts: (string | undefined)[]) => texts.find((t) => t !== undefined) ?? '0';
  const feed = parseLatency(pick(opts.feed, opts.latency), 'feed', rng, clock);
  const orderText = pick(opts.order, opts.latency);
  const order: Record<OrderOp, LatencyModel> = {
    new: parseLatency(orderText, 'order', rng),
    cancel: parseLatency(pick(opts.cancel, orderText), 'order', rng),
    modify: parseLatency(pick(opts.modify, orderText), 'order', rng),
  };
  const response = parseLatency(pick(opts.response, opts.latency), 'response', rng);
  return { feed, order, response };
}

/** "feed 1ms, order 1ms (cancel 500us), response 1ms" */
export function describeVenueLatency(v: VenueLatency): string {
  const base = v.order.new.description;
  const extra: string[] = [];
  if (v.order.cancel.description !== base) extra.push(`cancel ${v.order.cancel.description}`);
  if (v.order.modify.description !== base) extra.push(`modify ${v.order.modify.description}`);
  const order = extra.length ? `${base} (${extra.join(', ')})` : base;
  return `feed ${v.feed.description}, order ${order}, response ${v.response.description}`;
}
