// The shape every importer has: read capture files, push raw and normalized events into a sink.
import type { EventSink, InputPlace, ProblemLog } from '../data/sink.js';
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
  /** Book checksums the exchange sent (OKX): equal to the rebuilt book's, different, or absent/0. Absent when the exchange sends none. */
  checksums?: { verified: number; failed: number; skipped: number };
  /** Frames the normalizers refused (a field is not what the exchange sends): kept raw, no events written. */
  invalidFrames: number;
  /** Lines that failed for another reason (an error while importing them), each reported with file:line; the import went on. */
  failedLines: number;
}

export type Importer = (files: string[], sink: EventSink, problems: ProblemLog, opts: ImporterOptions) => Promise<ImporterStats>;

export function emptyStats(): ImporterStats {
  return { lines: 0, messages: 0, gaps: {}, invalidFrames: 0, failedLines: 0 };
}

/** Run one input line's work; an error it throws is reported at its file:line and the import goes on. */
export function guardLine(stats: ImporterStats, problems: ProblemLog, place: InputPlace, work: () => void): void {
  try {
    work();
  } catch (e) {
    stats.failedLines++;
    problems.add('failed_line', place, `line could not be imported (${e instanceof Error ? e.message : String(e)}); the import goes on`);
  }
}
