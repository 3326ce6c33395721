// Shared plumbing for streams the dataset holds no recorded frames for: the simulator then generates the
// exchange's frames from the normalized events. The replay clock groups a stream's event rows into
// messages (rows up to MessageEnd, as the normalizers wrote them from one exchange message) and hands each
// to the exchange's server side, which builds the frames its protocol sends (src/exchanges/<x>/sim-server.ts).
//
// Which streams are synthesized is decided per (exchange, symbol, channel) by a scan of the raw tables:
// a channel with at least one recorded frame is replayed from its frames, one without from its events.
import { EventKind, Flag, type ExchangeId } from '../data/types.js';
import type { EventBatch } from '../data/reader.js';
import { NS_PER_MS } from '../data/time.js';

/** The channels a dataset stream's events come from. */
export type SynthChannel = 'trade' | 'book' | 'bbo';

/** What a recorded frame feeds: its symbol (as the dataset writes it, upper case) and channel. */
export interface FrameChannel {
  symbol: string;
  channel: SynthChannel;
}

/** Reads a recorded frame's symbol and channel (null for acks, notices and channels the dataset does not model). */
export type FrameClassifier = (text: string) => FrameChannel | null;

export function channelKey(exchange: ExchangeId, symbol: string, channel: SynthChannel): string {
  return `${exchange}:${symbol.toUpperCase()}:${channel}`;
}

/** Bit mask of the event kinds a channel's events have (bit `kind`). */
export function kindMask(channel: SynthChannel): number {
  switch (channel) {
    case 'trade':
      return 1 << EventKind.Trade;
    case 'bbo':
      return 1 << EventKind.BestBidOffer;
    case 'book':
      return (1 << EventKind.BookLevel) | (1 << EventKind.BookSnapshot) | (1 << EventKind.Gap) | (1 << EventKind.Disconnect);
  }
}

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

/** Collects rows per stream until MessageEnd (a message may span two segments, or interleave with another stream's). */
export class MessageAssembler {
  private readonly pending = new Map<number, EventMessage>();

  /** Add row `i` of `b`; `emit` gets each message it completes. */
  add(b: EventBatch, i: number, emit: (m: EventMessage) => void): void {
    const stream = b.stream[i]!;
    const kind = b.kind[i]!;
    let m = this.pending.get(stream);
    if (m && m.kind !== kind) {
      // A message whose MessageEnd never came (a writer killed mid-message): send what it had.
      this.pending.delete(stream);
      emit(m);
      m = undefined;
    }
    if (!m) {
      m = { stream, kind, t: 0, localTs: 0n, rows: [] };
      this.pending.set(stream, m);
    }
    m.t = b.localNs[i]!;
    m.localTs = b.localTs[i]!;
    m.rows.push({ exchTs: b.exchTs[i]!, side: b.side[i]!, price: b.price[i]!, size: b.size[i]!, id: b.id[i]!, prevId: b.prevId[i]!, flags: b.flags[i]! });
    if (b.flags[i]! & Flag.MessageEnd) {
      this.pending.delete(stream);
      emit(m);
    }
  }

  reset(): void {
    this.pending.clear();
  }
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
