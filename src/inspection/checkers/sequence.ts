// Sequence chain: each book message's prev_id must equal the previous message's id. A break is explained when
// a gap or disconnect marker follows it before the stream's next book message (the importer noticed it).
import type { EventBatch } from '../../data/reader.js';
import { EventKind, Flag } from '../../data/types.js';
import type { BookMessages } from '../book-messages.js';
import { emptyFindings, type Checker, type Findings } from '../checker.js';
import { isoText, nsText, streamLabel, type DatasetHead } from '../format.js';
import { MarkerSettledFindings } from './marker-settled.js';

export interface ChainBreak {
  row: number;
  local_ts_ns: string;
  local_ts: string;
  id: string;
  prev_id: string;
  expected_prev_id: string;
  /** A gap or disconnect marker followed the break before the stream's next book message. */
  explained: boolean;
}

export interface ChainCheck {
  /** Book messages whose prev_id was compared with the previous message's id. */
  messages_checked: number;
  /** Book messages not compared: the first one after the start, a snapshot, a gap or a disconnect. */
  messages_after_reset: number;
  /** Book messages with id or prev_id -1 (the exchange gives none): not compared. */
  messages_without_ids: number;
  breaks: number;
  explained_by_marker: number;
  unexplained: number;
  examples: ChainBreak[];
}

export interface SequenceReport {
  chain: ChainCheck[];
  findings: Findings[];
}

export class SequenceChecker implements Checker<SequenceReport> {
  private readonly n: number;
  /** The next book message starts a new chain (start, snapshot, gap or disconnect before it). */
  private readonly fresh: Uint8Array;
  private readonly checked: Float64Array;
  private readonly afterReset: Float64Array;
  private readonly withoutIds: Float64Array;
  /** Breaks, explained by a marker or not by the next book message. */
  private readonly breaks: MarkerSettledFindings<ChainBreak>;

  constructor(
    private readonly ds: DatasetHead,
    private readonly messages: BookMessages,
  ) {
    const n = (this.n = ds.streams.length);
    this.fresh = new Uint8Array(n).fill(1);
    this.checked = new Float64Array(n);
    this.afterReset = new Float64Array(n);
    this.withoutIds = new Float64Array(n);
    this.breaks = new MarkerSettledFindings<ChainBreak>(n, (ex, byMarker) => (ex.explained = byMarker));
  }

  onRow(b: EventBatch, i: number, row: number): void {
    const s = b.stream[i]!;
    if (s >= this.n) return;
    const kind = b.kind[i]!;
    if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
      this.breaks.resolve(s, true);
      this.fresh[s] = 1;
    } else if (kind === EventKind.BookSnapshot) {
      this.breaks.resolve(s, false);
      this.fresh[s] = 1;
    } else if (kind === EventKind.BookLevel && this.messages.startsMessage) {
      this.breaks.resolve(s, false);
      const m = this.messages;
      if (m.noIds) {
        // Rows without ids cannot be grouped by id: their messages are counted at MessageEnd rows.
        if (b.flags[i]! & Flag.MessageEnd) this.withoutIds[s]!++;
      } else if (this.fresh[s] || !m.hadPrevious) {
        this.afterReset[s]!++;
      } else {
        this.checked[s]!++;
        if (m.prevIdLo !== m.previousIdLo || m.prevIdHi !== m.previousIdHi) this.recordBreak(b, i, row, s);
      }
      this.fresh[s] = 0;
    }
  }

  private recordBreak(b: EventBatch, i: number, row: number, s: number): void {
    this.breaks.add(s, (): ChainBreak => {
      const m = this.messages;
      const local = b.localNs[i]!;
      return {
        row,
        local_ts_ns: nsText(this.ds, local),
        local_ts: isoText(this.ds, local),
        id: b.id[i]!.toString(),
        prev_id: b.prevId[i]!.toString(),
        expected_prev_id: (BigInt(m.previousIdHi) * 4294967296n + BigInt(m.previousIdLo >>> 0)).toString(),
        explained: false,
      };
    });
  }

  finish(): SequenceReport {
    const findings = emptyFindings(this.n);
    const chain = this.ds.streams.map((st, s): ChainCheck => {
      this.breaks.resolve(s, false);
      const explained = this.breaks.marked[s]!;
      const unexplained = this.breaks.found[s]! - explained;
      const label = streamLabel(st);
      if (unexplained > 0) findings[s]!.errors.push(`${label}: ${unexplained} sequence break(s) that no gap marker explains`);
      if (explained > 0) findings[s]!.notes.push(`${label}: ${explained} sequence break(s) followed by a gap marker`);
      return {
        messages_checked: this.checked[s]!,
        messages_after_reset: this.afterReset[s]!,
        messages_without_ids: this.withoutIds[s]!,
        breaks: this.breaks.found[s]!,
        explained_by_marker: explained,
        unexplained,
        examples: this.breaks.examples[s]!,
      };
    });
    return { chain, findings };
  }
}
