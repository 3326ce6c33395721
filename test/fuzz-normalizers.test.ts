// A short run of the normalizer fuzz (src/fuzz/normalizers.ts; `npm run fuzz` runs 1,000,000 cases): mutated real
// frames through all four exchanges' normalizers, with no crash, no case over 100 ms and no invalid value written.
import { describe, expect, it } from 'vitest';
import { run } from '../src/fuzz/normalizers.js';

describe('normalizer fuzz', () => {
  it('20,000 mutated frames (seed 1, bundled sample only, as on a fresh clone): 0 crashes, 0 slow, 0 invalid values', async () => {
    const r = await run(1, 20_000, { useShared: false });
    expect({ ...r, maxMs: 0 }).toEqual({ name: 'normalizers', cases: 20_000, crashes: 0, slowCases: 0, invalidValues: 0, maxMs: 0, examples: [] });
    expect(r.maxMs).toBeLessThanOrEqual(100);
  }, 300_000);

  it('the same with the shared captures in the pool when they are there (seed 2)', async () => {
    const r = await run(2, 20_000);
    expect([r.cases, r.crashes, r.slowCases, r.invalidValues, r.examples]).toEqual([20_000, 0, 0, 0, []]);
  }, 300_000);
});
