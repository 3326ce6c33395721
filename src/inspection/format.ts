// Formatting shared by the inspection reports (dataset info, check, book): times as ns text and ISO text,
// numbers rounded to 3 decimals, kind names, stream labels.
import type { Dataset } from '../data/reader.js';

/** What the reports need of a dataset: its streams and the origin its float ns times count from. */
export type DatasetHead = Pick<Dataset, 'streams' | 'originNs'>;
import { EVENT_KIND_NAMES } from '../data/types.js';
import { formatTimeNs } from '../data/time.js';

/** At most this many examples are kept per finding. */
export const MAX_EXAMPLES = 5;

export interface TimeSpan {
  local_first_ns: string | null;
  local_first: string | null;
  local_last_ns: string | null;
  local_last: string | null;
  /** Exchange times exclude rows flagged NoExchangeTime (their exch_ts is only the local time). */
  exch_first_ns: string | null;
  exch_first: string | null;
  exch_last_ns: string | null;
  exch_last: string | null;
  /** local_last - local_first in seconds. */
  duration_s: number | null;
}

export function kindName(k: number): string {
  return EVENT_KIND_NAMES[k] ?? `kind_${k}`;
}

/** ns since epoch of a float ns relative to the dataset origin (exact: the floats are integers). */
export function absNs(ds: DatasetHead, rel: number): bigint {
  return ds.originNs + BigInt(rel);
}

export function nsText(ds: DatasetHead, rel: number): string {
  return absNs(ds, rel).toString();
}

export function isoText(ds: DatasetHead, rel: number): string {
  return formatTimeNs(absNs(ds, rel));
}

export function round3(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}

export function countsObject(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  counts.forEach((v, k) => {
    if (v > 0) out[kindName(k)] = v;
  });
  return out;
}

export function span(ds: DatasetHead, lmin: number, lmax: number, emin: number, emax: number): TimeSpan {
  const hasL = lmin <= lmax;
  const hasE = emin <= emax;
  return {
    local_first_ns: hasL ? nsText(ds, lmin) : null,
    local_first: hasL ? isoText(ds, lmin) : null,
    local_last_ns: hasL ? nsText(ds, lmax) : null,
    local_last: hasL ? isoText(ds, lmax) : null,
    exch_first_ns: hasE ? nsText(ds, emin) : null,
    exch_first: hasE ? isoText(ds, emin) : null,
    exch_last_ns: hasE ? nsText(ds, emax) : null,
    exch_last: hasE ? isoText(ds, emax) : null,
    duration_s: hasL ? (lmax - lmin) / 1e9 : null,
  };
}

export function streamLabel(st: { exchange: string; symbol: string }): string {
  return `${st.exchange} ${st.symbol}`;
}
