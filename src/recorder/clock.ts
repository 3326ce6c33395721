// The recorder's clock: every received frame is stamped with it before it is parsed.
//
// A monotonic clock (process.hrtime.bigint(), which never jumps when NTP steps the wall clock) anchored
// once to the wall clock at start: now = wallAtStart + (hrtime - hrtimeAtStart). Times are therefore
// nanoseconds since the Unix epoch, comparable with the exchanges' timestamps, and never go backwards
// within one recording, whatever the system clock does meanwhile.

export interface Clock {
  /** Nanoseconds since the Unix epoch. Non-decreasing. */
  now(): bigint;
  /** The wall-clock time (ns) the clock was anchored to. */
  readonly anchorNs: bigint;
}

export class MonotonicClock implements Clock {
  readonly anchorNs: bigint;
  private readonly anchorMono: bigint;
  private readonly mono: () => bigint;

  /**
   * @param wallMs the wall clock in ms (Date.now by default)
   * @param mono   a monotonic ns counter (process.hrtime.bigint by default)
   */
  constructor(wallMs: () => number = Date.now, mono: () => bigint = process.hrtime.bigint) {
    this.mono = mono;
    // Read the monotonic clock right after the wall clock so the two describe the same instant (±µs).
    this.anchorNs = BigInt(wallMs()) * 1_000_000n;
    this.anchorMono = mono();
  }

  now(): bigint {
    return this.anchorNs + (this.mono() - this.anchorMono);
  }
}
