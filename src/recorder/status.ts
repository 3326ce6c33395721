// Status reporting: the lag window (local − exchange time, median over the last interval) and the
// one-line human status the CLI prints to stderr.

/** What the recorder reports after every flush (the CLI's --status-json lines). */
export interface RecorderStats {
  exchange: string;
  /** Recorder clock, ns since epoch, as a decimal string. */
  time: string;
  uptime_s: number;
  connections: number;
  connected: number;
  /** Data frames received (not heartbeats). */
  messages: number;
  /** Data frames in the last interval, per second. */
  messages_per_s: number;
  /** Median of local − exchange time over the last interval (ms); null without timed frames. */
  lag_p50_ms: number | null;
  /** That median minus the lowest local − exchange time seen since the start (ms): the lag over the feed's
   *  own clock offset, meaningful even when the exchange times are far from the local clock (a simulator
   *  replaying old data, a skewed clock). Null without timed frames. */
  lag_p50_over_min_ms: number | null;
  /** Gap rows written (sequence breaks, checksums, missing snapshots). */
  gaps: number;
  /** Open connections lost (not counting stop). */
  disconnects: number;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Frames that were not valid JSON or that the normalizer rejected (all kept raw). */
  malformed: number;
  snapshots: { requested: number; applied: number; rate_limited: number; retries: number; failed: number; weight_used_1m: number };
  resyncs: number;
  events: number;
  raw_messages: number;
  bytes_written: number;
  problems: Record<string, number>;
  /** The dataset writer: paused while the disk refuses writes (disk full); rows dropped past its memory bound. */
  writing: { paused: boolean; error: string | null; pending_bytes: number; dropped_events: number; dropped_raw: number };
}


/** Collects local − exchange time (ms) of the frames of one interval; the median is taken once per interval. */
export class LagWindow {
  private values = new Float64Array(1024);
  private n = 0;
  /** Kept at most this many per interval (an even sample of the rest is enough for a median). */
  private readonly cap = 65536;
  private seen = 0;
  private lowest = Infinity;

  /** The lowest lag seen since the start (ms); null before any. */
  get lowestMs(): number | null {
    return this.lowest === Infinity ? null : this.lowest;
  }

  add(localTs: bigint, exchMs: number): void {
    // Number(ns) is off by at most 128 ns: plenty for a lag in ms.
    const lag = Number(localTs) / 1e6 - exchMs;
    if (lag < this.lowest) this.lowest = lag;
    this.seen++;
    if (this.n < this.cap) {
      if (this.n === this.values.length) {
        const v = new Float64Array(this.values.length * 2);
        v.set(this.values);
        this.values = v;
      }
      this.values[this.n++] = lag;
    } else {
      // Reservoir sampling keeps the sample even across the interval.
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.cap) this.values[j] = lag;
    }
  }

  /** The median of this interval (ms, 3 decimals), or null if nothing came; starts a new interval. */
  takeMedianMs(): number | null {
    const n = this.n;
    this.n = 0;
    this.seen = 0;
    if (n === 0) return null;
    const v = this.values.subarray(0, n).sort();
    const m = n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
    return Math.round(m * 1000) / 1000;
  }
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function msText(ms: number): string {
  if (Math.abs(ms) >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms.toFixed(1)} ms`;
}

/** Beyond this, local − exchange time is no network lag: the exchange times are not live (a simulator replaying
 *  a recording) or a clock is badly off. Then only the lag over the lowest one seen means anything. */
const NOT_LIVE_MS = 3_600_000;

function lagText(s: RecorderStats): string {
  const ms = s.lag_p50_ms;
  if (ms === null) return 'lag p50 -';
  if (Math.abs(ms) < NOT_LIVE_MS) return `lag p50 ${msText(ms)}`;
  const over = s.lag_p50_over_min_ms === null ? '' : `, ${msText(s.lag_p50_over_min_ms)} over the lowest`;
  return `lag p50 n/a (exchange times ${msText(ms)} behind: replayed or a clock off${over})`;
}

/** "binance-usdm  1 234 msg/s  lag p50 12.3 ms  gaps 0  reconnects 0  malformed 0  12.3 MiB" */
export function statusLine(s: RecorderStats): string {
  const parts = [
    s.exchange,
    `${s.connected}/${s.connections} up`,
    `${s.messages_per_s.toLocaleString('en-US')} msg/s`,
    lagText(s),
    `gaps ${s.gaps}`,
    `reconnects ${s.reconnects}`,
  ];
  if (s.malformed > 0) parts.push(`malformed ${s.malformed}`);
  if (s.snapshots.rate_limited > 0) parts.push(`rate-limited ${s.snapshots.rate_limited}`);
  const w = s.writing;
  if (w.paused) parts.push(`WRITING PAUSED (${w.error}): ${bytesText(w.pending_bytes)} waiting in memory`);
  if (w.dropped_events + w.dropped_raw > 0) parts.push(`ROWS DROPPED ${w.dropped_events + w.dropped_raw} (disk full)`);
  parts.push(`${bytesText(s.bytes_written)} written`);
  return parts.join('  ');
}
