// Shared plumbing for streams the dataset holds no recorded frames for: the simulator then generates the
// exchange's frames from the normalized events. The replay clock groups a stream's event rows into
// messages (rows up to MessageEnd, as the normalizers wrote them from one exchange message) and hands each
// to the exchange's server side, which builds the frames its protocol sends (src/exchanges/<x>/sim-server.ts).
//
// Which streams are synthesized is decided per (exchange, symbol, channel) by a scan of the raw tables:
// a channel with at least one recorded frame is replayed from its frames, one without from its events.
import { EventKind, Flag, type ExchangeId } from '../data/types.js';
import type { EventBatch } from '../data/reader.js';
import type { EventMessage, SynthChannel } from '../exchanges/kit/sim-frames.js';

export type { EventMessage, EventRow, FrameChannel, FrameClassifier, SynthChannel } from '../exchanges/kit/sim-frames.js';

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

