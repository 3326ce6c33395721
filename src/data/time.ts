// Time in Latency Lab is int64 nanoseconds since the Unix epoch (UTC) in files, bigint at the edges,
// and float64 nanoseconds relative to a dataset origin on hot paths: exact while |t - origin| < 2^53 ns
// (104 days), with no BigInt per event.

export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

/** Parse "2024-08-08T23:55:00Z", "2024-08-08T23:55:00.123456789Z" or a plain integer of nanoseconds. */
export function parseTimeNs(text: string): bigint {
  const s = text.trim();
  if (/^-?\d+$/.test(s)) return BigInt(s);
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) throw new Error(`not a time: "${text}" (use ISO 8601 like 2024-08-08T23:58:00Z, or integer nanoseconds)`);
  const [, date, hh, mm, ss = '00', frac = '', tz = 'Z'] = m;
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}${tz === 'Z' ? 'Z' : tz}`);
  if (Number.isNaN(ms)) throw new Error(`not a time: "${text}"`);
  return BigInt(ms) * NS_PER_MS + BigInt((frac + '000000000').slice(0, 9));
}

/** ISO 8601 with nanoseconds: 2024-08-08T23:54:13.937085768Z. */
export function formatTimeNs(ns: bigint): string {
  let sec = ns / NS_PER_S;
  let frac = ns % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    sec -= 1n;
  }
  const iso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${iso}.${frac.toString().padStart(9, '0')}Z`;
}

/** Seconds as a float (cryptofeed's `ts`) to integer ns, rounding the float's text, not its binary value. */
export function secondsTextToNs(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a time in seconds: ${text}`);
  return BigInt(m[1]!) * NS_PER_S + BigInt(((m[2] ?? '') + '000000000').slice(0, 9));
}

/** RFC 3339 with up to 9 fractional digits (Coinbase) to ns. */
export function isoToNs(text: string): bigint {
  return parseTimeNs(text);
}

const TWO_32 = 4294967296;

/**
 * Convert int64 ns to float64 ns relative to `origin`, without creating a BigInt per value.
 * Exact for |value - origin| < 2^53.
 */
export function relativeNs(values: BigInt64Array, origin: bigint, out: Float64Array = new Float64Array(values.length)): Float64Array {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const oHi = Number(BigInt.asIntN(32, origin >> 32n));
  const oLo = Number(BigInt.asUintN(32, origin));
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]! >>> 0;
    const hi = words[2 * i + 1]!;
    out[i] = (hi - oHi) * TWO_32 + (lo - oLo);
  }
  return out;
}

/** Durations: "0", "250us", "1ms", "1.5ms", "2s", "500ns", "1m", "1h". Returns ns as a number. */
export function parseDurationNs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (use a number with a unit: 0, 250us, 1ms, 1.5ms, 2s, 1h)`);
  const value = Number(m[1]);
  const unit = m[2];
  if (unit === undefined) {
    if (value === 0) return 0;
    throw new Error(`duration "${text}" has no unit (use ns, us, ms, s, m or h)`);
  }
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[unit]!;
  return Math.round(value * scale);
}

/** A duration in ns as the shortest readable text: 1.5ms, 250us, 2s. */
export function formatDurationNs(ns: number): string {
  const a = Math.abs(ns);
  if (a === 0) return '0';
  if (a >= 1e9) return `${+(ns / 1e9).toFixed(3)}s`;
  if (a >= 1e6) return `${+(ns / 1e6).toFixed(3)}ms`;
  if (a >= 1e3) return `${+(ns / 1e3).toFixed(3)}us`;
  return `${ns}ns`;
}
