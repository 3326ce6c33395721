// Where normalizers put what they produce. DatasetWriter is the real one; tests may collect in memory.
import { EventKind, Flag, type RawKind, type StreamInfo } from './types.js';

export interface EventSink {
  /** The stream's index for the `stream` column, registering it on first use. */
  stream(info: StreamInfo): number;
  /**
   * One normalized event; times in ns since epoch, ids -1n where there is none. `exchTs` is the exchange's
   * match/transaction time, `publishTs` its publish/event time (docs/dataset-format.md, "Two exchange
   * clocks"); omitted, it is `exchTs` (the exchange gives one clock for this message).
   */
  event(
    stream: number,
    localTs: bigint,
    exchTs: bigint,
    kind: number,
    side: number,
    price: number,
    size: number,
    id: bigint,
    prevId: bigint,
    flags: number,
    publishTs?: bigint,
  ): void;
  /** One raw message exactly as received; `source` and `line` say where it came from. */
  rawMessage(localTs: bigint, exchange: string, source: string, line: number, kind: RawKind, data: string): void;
}

/** Where an input line came from, for error messages: "usdm_btcusdt_20240808.gz:1234". */
export interface InputPlace {
  source: string;
  line: number;
}

export function placeText(p: InputPlace): string {
  return `${p.source}:${p.line}`;
}

/** Problems found while importing or recording; counted, kept, and printed, never fatal on their own. */
export class ProblemLog {
  readonly items: { place: string; message: string }[] = [];
  readonly counts: Record<string, number> = {};
  /** At most this many are kept in `items` (all are counted). */
  constructor(private readonly keep = 1000) {}
  add(kind: string, place: InputPlace | string, message: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (this.items.length < this.keep) {
      this.items.push({ place: typeof place === 'string' ? place : placeText(place), message });
    }
  }
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

/**
 * The connection carrying these streams was lost and is back: a Disconnect and a Reconnect row each, so the
 * data shows the outage and every book is unknown until its next snapshot.
 */
export function markReconnect(sink: EventSink, streams: Iterable<number>, localTs: bigint): void {
  const flags = Flag.MessageEnd | Flag.NoExchangeTime;
  for (const s of streams) {
    sink.event(s, localTs, localTs, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, flags);
    sink.event(s, localTs, localTs, EventKind.Reconnect, 0, NaN, 0, -1n, -1n, flags);
  }
}
