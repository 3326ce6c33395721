// The one interface every exchange's normalizer implements: exchange frames in, normalized events out (into
// an EventSink), with the exchange's book-sync rules applied. Importers and the recorder drive it.
import type { InputPlace } from '../../data/sink.js';

export interface Normalizer {
  readonly exchange: string;
  /** One frame as received: its text, or the JSON already parsed from it. Problems go to the ProblemLog. */
  onMessage(localTs: bigint, frame: unknown, place: InputPlace): void;
  /** Frames (or parts of one) rejected because a field is not what the exchange sends: never written as events. */
  readonly invalidFrames: number;
  /** Gap rows written, by reason name. */
  readonly gaps: Readonly<Record<string, number>>;
  /** Book checksums compared (exchanges that send them): equal, different, or not computable. */
  readonly checksums?: { readonly verified: number; readonly failed: number; readonly skipped: number };
  /** A REST book snapshot the input holds (Binance depth snapshots); `symbol` when the body does not name it. */
  onRestSnapshot?(localTs: bigint, body: Record<string, unknown>, symbol: string, place: InputPlace): void;
  /** The capture's connection was re-established: every book needs a new snapshot. */
  reset?(localTs: bigint): void;
  /** The input ended: books still waiting for a snapshot get their gap row. */
  finish?(place: string): void;
}
