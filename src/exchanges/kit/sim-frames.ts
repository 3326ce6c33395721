// The simulator's view of an exchange's frames, shared by the simulator and the exchanges' server sides:
// which channel a recorded frame feeds, the event rows of one message to synthesize frames from, and the
// number formatting those frames need.
import { NS_PER_MS } from '../../data/time.js';

/** The channels a dataset stream's events come from. */
export type SynthChannel = 'trade' | 'book' | 'bbo';

/** What a recorded frame feeds: its symbol (as the dataset writes it, upper case) and channel. */
export interface FrameChannel {
  symbol: string;
  channel: SynthChannel;
}

/** Reads a recorded frame's symbol and channel (null for acks, notices and channels the dataset does not model). */
export type FrameClassifier = (text: string) => FrameChannel | null;

export interface EventRow {
  exchTs: bigint;
  side: number;
  price: number;
  size: number;
  id: bigint;
  prevId: bigint;
  flags: number;
}

/** The event rows of one exchange message of one stream (rows up to and including MessageEnd). */
export interface EventMessage {
  stream: number;
  kind: number;
  /** Local time of the last row, ns relative to the dataset origin (when the frame goes out). */
  t: number;
  localTs: bigint;
  rows: EventRow[];
}

/** Exchange time in whole milliseconds. */
export function exchMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

/**
 * A float64 as the shortest decimal text that reads back to it, never in exponent notation
 * (1e-7 → "0.0000001", 1e21 → "1000000000000000000000").
 */
export function decimalText(x: number): string {
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s.startsWith('-');
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot < 0 ? mant.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = `0.${'0'.repeat(-intLen)}${digits}`;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return neg ? `-${out}` : out;
}
