// Seeded randomness for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit
// state, from PractRand) seeded through splitmix32. All arithmetic is 32-bit integer (Math.imul, |0, >>>0), so
// a seed gives the same sequence on every platform. Nothing here reads a clock or Math.random.

import type { Rng } from './types.js';

const TWO_POW_32 = 4294967296;

/** One step of splitmix32 over a 32-bit state: returns [output, next state]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z = z ^ (z >>> 15);
  return [z >>> 0, next];
}

/** sfc32 with its state seeded from splitmix32. */
export class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe integer (negative allowed): its low and high 32-bit words both feed the state. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`random seed must be a whole number (a safe integer), got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let s = lo | 0;
    let out: number;
    [out, s] = splitmix32(s);
    this.a = out | 0;
    [out, s] = splitmix32(s);
    this.b = out | 0;
    [out, s] = splitmix32((s + hi) | 0);
    this.c = out | 0;
    this.d = 1; // sfc32's counter, started at 1 as in PractRand's seeding
    // Discard the first outputs so that similar seeds diverge (PractRand discards 12 for sfc32).
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), a multiple of 2^-32. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }
}

/** A seeded generator: the same seed gives the same sequence, everywhere. */
export function createRng(seed: number): Sfc32 {
  return new Sfc32(seed);
}

/**
 * A standard normal draw by Box–Muller (cosine branch), using two uniforms from `rng` per call. The sine
 * branch is not cached, so a call always consumes exactly two draws and the result depends only on the
 * generator's state (no hidden state to carry between calls).
 */
export function normal(rng: Rng): number {
  const u1 = 1 - rng.next(); // (0, 1]: log(0) cannot happen
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
