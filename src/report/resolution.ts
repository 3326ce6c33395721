// The exchange-time resolution of a dataset's streams, and the sweep's warnings for adjacent grid latencies
// closer together than it: a simulation cannot tell apart two latencies the data's clock cannot.
import type { Dataset } from '../data/reader.js';
import { formatDurationNs } from '../data/time.js';
import { COARSEST_RESOLUTION_NS, hasOwnExchangeTime, narrowResolution } from '../data/time-resolution.js';

const latencyText = (ns: number): string => formatDurationNs(Math.round(ns));

export interface StreamResolution {
  exchange: string;
  symbol: string;
  /** The largest power of ten (in ns, 1 s at most) that divides every exchange time of the stream's market
   *  rows; null when the stream has no row with an exchange time of its own. */
  resolution_ns: number | null;
}

/**
 * One pass over the events table (typed arrays, nothing per row): for each stream in `streams`, the
 * resolution of its exchange times. Trades, book levels, snapshots and BBO rows count; markers (gap,
 * disconnect, reconnect) and rows flagged NoExchangeTime (Binance spot bookTicker: exch_ts = local_ts) do not.
 * Exchange times are measured from the dataset's origin, a whole second, so divisibility is the absolute one.
 */
export function exchangeTimeResolutions(ds: Dataset, streams: readonly number[]): StreamResolution[] {
  const res = new Float64Array(ds.streams.length).fill(COARSEST_RESOLUTION_NS);
  const seen = new Uint8Array(ds.streams.length);
  const wanted = new Uint8Array(ds.streams.length);
  for (const s of streams) wanted[s] = 1;
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      const s = b.stream[i]!;
      if (wanted[s] !== 1) continue;
      if (!hasOwnExchangeTime(b.kind[i]!, b.flags[i]!)) continue;
      seen[s] = 1;
      res[s] = narrowResolution(res[s]!, b.exchNs[i]!);
    }
  });
  return streams.map((s) => ({
    exchange: ds.streams[s]!.exchange,
    symbol: ds.streams[s]!.symbol,
    resolution_ns: seen[s] === 1 ? res[s]! : null,
  }));
}

export interface ResolutionWarning {
  /** The two adjacent grid latencies (as given), lower first. */
  low: string;
  high: string;
  low_ns: number;
  high_ns: number;
  /** The coarsest resolution among the venues it applies to. */
  resolution_ns: number;
  /** "exchange symbol" of every venue whose exchange-time resolution exceeds the difference. */
  venues: string[];
  text: string;
}

/**
 * For each pair of adjacent latencies of the grid (ascending) whose difference is below the exchange-time
 * resolution of at least one venue: a warning naming those venues. Venues without a known resolution are
 * left out.
 */
export function resolutionWarnings(latencies: readonly { text: string; ns: number }[], venues: readonly StreamResolution[]): ResolutionWarning[] {
  const sorted = [...latencies].sort((a, b) => a.ns - b.ns);
  const out: ResolutionWarning[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const diff = b.ns - a.ns;
    const coarse = venues.filter((v) => v.resolution_ns !== null && diff < v.resolution_ns);
    if (coarse.length === 0) continue;
    const resolution_ns = Math.max(...coarse.map((v) => v.resolution_ns!));
    const names = coarse.map((v) => `${v.exchange} ${v.symbol}`);
    const per = coarse.map((v) => `${latencyText(v.resolution_ns!)} on ${v.exchange} ${v.symbol}`).join(', ');
    out.push({
      low: a.text,
      high: b.text,
      low_ns: a.ns,
      high_ns: b.ns,
      resolution_ns,
      venues: names,
      text:
        `${latencyText(a.ns)} and ${latencyText(b.ns)} differ by ${latencyText(diff)}, less than the exchange-time resolution ` +
        `(${per}): the data cannot tell these latencies apart, and their results may be identical`,
    });
  }
  return out;
}
