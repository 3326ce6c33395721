// The recorder's clock model (src/data/clock-model.ts), on hand-made local - exchange series with a known
// offset and drift.
import { describe, expect, it } from 'vitest';
import { CLOCK_WINDOW_NS, ClockModel, ClockModelBuilder, measuresClock } from '../src/data/clock-model.js';
import { EventKind, Flag } from '../src/data/types.js';

const MS = 1e6;
const S = 1e9;
const W = CLOCK_WINDOW_NS;

// The dataset's recorder: 1276.16 ms behind the exchange at t = 0, drifting -0.3 ms per minute (-18 ms/h).
const OFFSET0 = -1276.16 * MS;
const DRIFT = -0.3 * MS / (60 * S); // ns of offset per ns of local time
const trueOffset = (t: number) => OFFSET0 + DRIFT * t;

/** 12 windows of 100 rows each: delays of 1 to 5.9 ms, and one row at each window's centre with no delay. */
function synthetic(): ClockModelBuilder {
  const b = new ClockModelBuilder();
  for (let k = 0; k < 12; k++) {
    for (let j = 0; j < 100; j++) {
      const local = k * W + j * 100 * MS + 1; // never exactly on the centre
      const delay = 1 * MS + ((j * 37) % 50) * 0.1 * MS;
      b.add(local, local - trueOffset(local) - delay);
    }
    const centre = (k + 0.5) * W;
    b.add(centre, centre - trueOffset(centre));
  }
  return b;
}

describe('ClockModelBuilder: lower envelope of local - publish time', () => {
  it('recovers offset and drift: each knot is its window-centre offset less one window of drift (the rolling minimum)', () => {
    const m = synthetic().finish();
    expect(m.knots).toBe(12);
    expect([...m.knotNs]).toEqual(Array.from({ length: 12 }, (_, k) => (k + 0.5) * W));
    // drift is negative, so the rolling minimum of 3 takes the next window's: offset(centre + 10 s) = offset - 0.05 ms
    for (let k = 0; k < 11; k++) expect(m.offsetNs[k]!).toBeCloseTo(trueOffset((k + 1.5) * W), 3);
    // the last window has no next one: its own
    expect(m.offsetNs[11]!).toBeCloseTo(trueOffset(11.5 * W), 3);
    expect(m.offsetNs[0]! / MS).toBeCloseTo(-1276.235, 6);
    expect(m.offsetNs[11]! / MS).toBeCloseTo(-1276.735, 6);
    // least squares over the knots: -18 ms/h plus the last knot's +0.05 ms lift, which tilts the slope by
    // 0.05 ms x (11 - 5.5) / 143 (sum of (k - 5.5)^2) per 10 s = +0.6923 ms/h: within 1 ms/h of the truth
    expect(m.driftNsPerHour / MS).toBeCloseTo(-18 + (0.05 * 5.5 / 143) * 360, 6);
    expect(m.driftNsPerHour / MS).toBeCloseTo(-17.307692, 5);
  });

  it('the offset between knots is the straight line; constant before the first and after the last', () => {
    const m = synthetic().finish();
    const mid = (m.offsetNs[3]! + m.offsetNs[4]!) / 2;
    expect(m.offsetAt(4 * W)).toBeCloseTo(mid, 6);
    expect(m.offsetAt(0)).toBe(m.offsetNs[0]!);
    expect(m.offsetAt(1000 * S)).toBe(m.offsetNs[11]!);
    // within one window's drift (0.05 ms) of the true offset everywhere inside the knots
    for (let t = 5 * S; t <= 115 * S; t += 0.5 * S) expect(Math.abs(m.offsetAt(t) - trueOffset(t))).toBeLessThanOrEqual(0.05 * MS + 1);
  });

  it('a quiet window (no fast message) does not lift the envelope: its neighbours’ minimum stands in', () => {
    const b = new ClockModelBuilder();
    b.add(5 * S, 5 * S - 2 * MS); // window 0: 2 ms
    b.add(15 * S, 15 * S - 40 * MS); // window 1: only a 40 ms message
    b.add(25 * S, 25 * S - 3 * MS); // window 2: 3 ms
    const m = b.finish();
    expect([...m.offsetNs].map((x) => x / MS)).toEqual([2, 2, 3]);
  });

  it('no measuring row: no knots, offset 0', () => {
    const m = new ClockModelBuilder().finish();
    expect(m.knots).toBe(0);
    expect(m.offsetAt(123 * S)).toBe(0);
    expect(m.driftNsPerHour).toBe(0);
    expect(m.describe()).toBe('no clock model (no row carries an exchange time)');
  });

  it('windows far apart grow the arrays; empty windows are skipped', () => {
    const b = new ClockModelBuilder();
    b.add(1 * S, 1 * S - 7 * MS);
    b.add(3600 * S, 3600 * S - 5 * MS);
    const m = b.finish();
    expect([...m.knotNs]).toEqual([5 * S, 3605 * S]);
    expect([...m.offsetNs]).toEqual([7 * MS, 5 * MS]);
    // -2 ms over 3600 s
    expect(m.driftNsPerHour).toBeCloseTo(-2 * MS, 3);
    expect(m.describe()).toBe('offset 7.000 ms → 5.000 ms, drift -2.00 ms/h (2 windows of 10 s)');
  });
});

describe('ClockModel: one correction that never reorders', () => {
  it('a segment steeper than 1/2 is capped, so local - offset(local) never decreases', () => {
    const m = new ClockModel(Float64Array.of(0, 10 * S), Float64Array.of(0, 8 * S));
    expect(m.offsetNs[1]).toBe(5 * S);
    let prev = -Infinity;
    for (let t = -S; t <= 12 * S; t += 0.25 * S) {
      const x = m.toExchangeNs(t);
      expect(x).toBeGreaterThanOrEqual(prev);
      prev = x;
    }
    expect(m.toExchangeNs(10 * S)).toBe(5 * S);
  });

  it('constant(): one offset everywhere', () => {
    const m = ClockModel.constant(-2 * MS);
    expect(m.offsetAt(0)).toBe(-2 * MS);
    expect(m.offsetAt(99 * S)).toBe(-2 * MS);
    expect(m.toExchangeNs(10 * MS)).toBe(12 * MS);
  });

  it('rejects knots that do not increase', () => {
    expect(() => new ClockModel(Float64Array.of(5, 5), Float64Array.of(0, 0))).toThrow('knot times must increase');
  });
});

describe('measuresClock: which rows estimate the recorder clock', () => {
  it('market data received as sent, with an exchange time', () => {
    expect(measuresClock(EventKind.Trade, Flag.MessageEnd)).toBe(true);
    expect(measuresClock(EventKind.BookLevel, 0)).toBe(true);
    expect(measuresClock(EventKind.BookSnapshot, Flag.SnapshotBegin)).toBe(true);
    expect(measuresClock(EventKind.BestBidOffer, Flag.MessageEnd)).toBe(true);
    expect(measuresClock(EventKind.BestBidOffer, Flag.NoExchangeTime)).toBe(false);
    expect(measuresClock(EventKind.BookLevel, Flag.Buffered)).toBe(false);
    expect(measuresClock(EventKind.BookSnapshot, Flag.FromRest)).toBe(false);
    // markers may carry the local time as exchange time (a frame that could not be read)
    expect(measuresClock(EventKind.Gap, Flag.MessageEnd)).toBe(false);
    expect(measuresClock(EventKind.Disconnect, Flag.MessageEnd)).toBe(false);
    expect(measuresClock(EventKind.Reconnect, Flag.MessageEnd)).toBe(false);
  });
});
