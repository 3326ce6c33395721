// Break-even latency (src/report/sweep-results.ts): crossing() and breakEvens() on hand-made grids with exact
// numbers.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/engine/session.js';
import { breakEvens, crossing, type SweepGrid, type SweepPointResult } from '../src/report/sweep-results.js';

const MS = 1_000_000;
const pts = (...xy: [number, number][]) => xy.map(([latency_ns, value]) => ({ latency_ns, value }));

describe('crossing()', () => {
  it('interpolates linearly between the last point above 0 and the first at or below it', () => {
    // 1 at 1ms, -1 at 5ms: halfway, 3ms. The later rise above 0 at 10ms does not matter.
    expect(crossing(pts([0, 3], [1 * MS, 1], [5 * MS, -1], [10 * MS, 2]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 3 * MS, text: '3ms' });
    // 10 at 0, -30 at 10ms: a quarter of the way, 2.5ms.
    expect(crossing(pts([0, 10], [10 * MS, -30]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 2_500_000, text: '2.5ms' });
    // 1 at 0, -2 at 1000ns: 333.33ns, rounded to whole ns.
    expect(crossing(pts([0, 1], [1000, -2]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 333, text: '333ns' });
  });

  it('crosses exactly at a grid point whose value is 0', () => {
    expect(crossing(pts([0, 1], [250_000, 0]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 250_000, text: '250us' });
    expect(crossing(pts([0, 2], [1 * MS, 1], [2 * MS, 0], [3 * MS, -5]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 2 * MS, text: '2ms' });
    // 0.1 is not exact in binary: the interpolation still lands on the grid point.
    expect(crossing(pts([1 * MS, 0.1], [1.25 * MS, 0]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 1_250_000, text: '1.25ms' });
  });

  it('says "already negative" or "already zero" when the lowest latency is at or below 0', () => {
    expect(crossing(pts([0, -1], [1 * MS, 2]), 'net PnL')).toEqual({ kind: 'at_lowest', latency_ns: 0, text: 'already negative at the lowest latency (0)' });
    expect(crossing(pts([250_000, 0]), 'net PnL')).toEqual({ kind: 'at_lowest', latency_ns: 250_000, text: 'already zero at the lowest latency (250us)' });
  });

  it('says "never" when every point is above 0, naming the quantity and the highest latency', () => {
    expect(crossing(pts([0, 1], [50 * MS, 0.5]), 'net PnL')).toEqual({ kind: 'never', latency_ns: null, text: 'never (net PnL > 0 up to 50ms)' });
    expect(crossing(pts([0, 1e-12]), 'gross PnL')).toEqual({ kind: 'never', latency_ns: null, text: 'never (gross PnL > 0 up to 0)' });
    expect(crossing([], 'net PnL')).toEqual({ kind: 'never', latency_ns: null, text: 'no points' });
  });

  it('handles ties: equal values before the crossing, and two points at one latency', () => {
    // A plateau at 1: the crossing is between its last point (1ms) and -1 at 2ms.
    expect(crossing(pts([0, 1], [1 * MS, 1], [2 * MS, -1]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 1_500_000, text: '1.5ms' });
    // The same latency twice (e.g. "1ms,1000us"), above then below 0: the crossing is at that latency.
    expect(crossing(pts([0, 4], [1 * MS, 2], [1 * MS, -1]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 1 * MS, text: '1ms' });
  });

  it('leaves out points without a finite value', () => {
    // Without the NaN at 1ms, 4 at 0 and -4 at 2ms cross at 1ms.
    expect(crossing(pts([0, 4], [1 * MS, NaN], [2 * MS, -4]), 'net PnL')).toEqual({ kind: 'crossed', latency_ns: 1 * MS, text: '1ms' });
    expect(crossing(pts([0, NaN], [1 * MS, -1]), 'net PnL')).toEqual({ kind: 'at_lowest', latency_ns: 1 * MS, text: 'already negative at the lowest latency (1ms)' });
    expect(crossing(pts([0, 2], [1 * MS, NaN]), 'net PnL')).toEqual({ kind: 'never', latency_ns: null, text: 'never (net PnL > 0 up to 0)' });
    expect(crossing(pts([0, NaN], [1 * MS, NaN]), 'net PnL')).toEqual({ kind: 'never', latency_ns: null, text: 'no points' });
  });
});

describe('breakEvens()', () => {
  it('takes each parameter set apart, sorts its points by latency, and crosses net and gross PnL', () => {
    const grid: SweepGrid = {
      latencies: [
        { text: '0', ns: 0 },
        { text: '1ms', ns: MS },
        { text: '4ms', ns: 4 * MS },
      ],
      param_types: { thresholdBps: 'number' },
      varying_params: ['thresholdBps'],
      param_sets: [{ thresholdBps: '1' }, { thresholdBps: '3' }],
      legs: { varying: ['feed', 'order', 'response'], fixed: {} },
      points: [],
    };
    const point = (index: number, param_set: number, latency_ns: number, net_pnl: number, gross_pnl: number): SweepPointResult => ({
      index,
      param_set,
      latency: String(latency_ns),
      latency_ns,
      summary: { net_pnl, gross_pnl } as RunSummary,
    });
    // Listed out of latency order on purpose.
    const points = [
      point(2, 0, 4 * MS, -6, 2),
      point(0, 0, 0, 6, 10),
      point(1, 0, MS, 2, 6),
      point(5, 1, 4 * MS, 1, 3),
      point(3, 1, 0, -1, 5),
      point(4, 1, MS, -2, 4),
    ];
    expect(breakEvens(grid, points)).toEqual([
      {
        param_set: 0,
        label: 'thresholdBps=1',
        // net: 2 at 1ms, -6 at 4ms → 1ms + 3ms × 2/8 = 1.75ms; gross stays above 0.
        net: { kind: 'crossed', latency_ns: 1_750_000, text: '1.75ms' },
        gross: { kind: 'never', latency_ns: null, text: 'never (gross PnL > 0 up to 4ms)' },
      },
      {
        param_set: 1,
        label: 'thresholdBps=3',
        net: { kind: 'at_lowest', latency_ns: 0, text: 'already negative at the lowest latency (0)' },
        gross: { kind: 'never', latency_ns: null, text: 'never (gross PnL > 0 up to 4ms)' },
      },
    ]);
  });
});
