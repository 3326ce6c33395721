// The shape every importer has: read capture files, push raw and normalized events into a sink.
import type { EventSink, ProblemLog } from '../data/sink.js';
import type { ExchangeId } from '../data/types.js';

export interface ImporterOptions {
  /** Force the exchange id instead of inferring it from file names or content. */
  exchange?: ExchangeId;
}

export interface ImporterStats {
  /** Input lines read. */
  lines: number;
  /** Exchange messages among them (frames received, REST snapshots). */
  messages: number;
  /** Gap markers written, by reason name. */
  gaps: Record<string, number>;
  /** Book checksums the exchange sent (OKX): equal to the rebuilt book's, different, or absent/0. */
  checksums?: { verified: number; failed: number; skipped: number };
}

export type Importer = (files: string[], sink: EventSink, problems: ProblemLog, opts: ImporterOptions) => Promise<ImporterStats>;

export function emptyStats(): ImporterStats {
  return { lines: 0, messages: 0, gaps: {} };
}
