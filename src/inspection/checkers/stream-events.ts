// Per-stream counts of rows, snapshots and gap, disconnect and reconnect markers.
import type { EventBatch } from '../../data/reader.js';
import { EventKind, Flag, GAP_REASON_NAMES } from '../../data/types.js';
import { emptyFindings, type Checker, type Findings } from '../checker.js';
import { streamLabel, type DatasetHead } from '../format.js';

export interface StreamEventCounts {
  rows: number;
  /** Snapshots begun (rows flagged SnapshotBegin). */
  snapshots: number;
  gaps: { total: number; by_reason: Record<string, number> };
  disconnects: number;
  reconnects: number;
}

export interface StreamEventsReport {
  counts: StreamEventCounts[];
  findings: Findings[];
}

export class StreamEventsChecker implements Checker<StreamEventsReport> {
  private readonly n: number;
  private readonly rows: Float64Array;
  private readonly snapshots: Float64Array;
  /** Gap markers per (stream, reason): the reason is the marker's size column. */
  private readonly gapReasons: Float64Array;
  private readonly disconnects: Float64Array;
  private readonly reconnects: Float64Array;

  constructor(private readonly ds: DatasetHead) {
    const n = (this.n = ds.streams.length);
    this.rows = new Float64Array(n);
    this.snapshots = new Float64Array(n);
    this.gapReasons = new Float64Array(n * 256);
    this.disconnects = new Float64Array(n);
    this.reconnects = new Float64Array(n);
  }

  onRow(b: EventBatch, i: number): void {
    const s = b.stream[i]!;
    if (s >= this.n) return;
    this.rows[s]!++;
    const kind = b.kind[i]!;
    if (kind === EventKind.Gap) this.gapReasons[s * 256 + (b.size[i]! & 255)]!++;
    else if (kind === EventKind.Disconnect) this.disconnects[s]!++;
    else if (kind === EventKind.Reconnect) this.reconnects[s]!++;
    else if (kind === EventKind.BookSnapshot && b.flags[i]! & Flag.SnapshotBegin) this.snapshots[s]!++;
  }

  finish(): StreamEventsReport {
    const findings = emptyFindings(this.n);
    const counts = this.ds.streams.map((st, s): StreamEventCounts => {
      const byReason: Record<string, number> = {};
      let total = 0;
      for (let r = 0; r < 256; r++) {
        const c = this.gapReasons[s * 256 + r]!;
        if (c > 0) {
          byReason[GAP_REASON_NAMES[r] ?? `reason_${r}`] = c;
          total += c;
        }
      }
      if (total > 0) {
        const parts = Object.entries(byReason).map(([k, v]) => `${v} ${k}`);
        findings[s]!.notes.push(`${streamLabel(st)}: ${total} gap marker(s) (${parts.join(', ')})`);
      }
      return {
        rows: this.rows[s]!,
        snapshots: this.snapshots[s]!,
        gaps: { total, by_reason: byReason },
        disconnects: this.disconnects[s]!,
        reconnects: this.reconnects[s]!,
      };
    });
    return { counts, findings };
  }
}
