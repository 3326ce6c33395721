// Time order: local_ts going back in file order (the recorder writes in receive order, so this should not
// happen), and exch_ts going back between rows of one stream and between rows of one stream and kind (normal
// where an exchange's channels interleave; reported as information).
import type { EventBatch } from '../../data/reader.js';
import { Flag } from '../../data/types.js';
import { emptyFindings, TRACKED_KINDS, type Checker, type Findings } from '../checker.js';
import { isoText, kindName, MAX_EXAMPLES, nsText, round3, streamLabel, type DatasetHead } from '../format.js';

export interface OrderCount {
  decreases: number;
  /** Largest backward step, ms (0 when none). */
  max_step_back_ms: number;
}

export interface LocalOrderExample {
  row: number;
  local_ts_ns: string;
  local_ts: string;
  prev_local_ts_ns: string;
  step_back_ms: number;
}

export interface TimeOrderReport {
  local_ts_order: OrderCount & { examples: LocalOrderExample[] };
  exch_ts_order: (OrderCount & { by_kind: Record<string, OrderCount> })[];
  /** Per stream (exch_ts). */
  findings: Findings[];
  /** About the whole file (local_ts). */
  notes: string[];
}

const K = TRACKED_KINDS;

export class TimeOrderChecker implements Checker<TimeOrderReport> {
  private readonly n: number;
  private localDecreases = 0;
  private localMaxBackMs = 0;
  private prevLocal = -Infinity;
  private readonly localExamples: LocalOrderExample[] = [];
  private readonly prevExch: Float64Array;
  private readonly exchDecreases: Float64Array;
  private readonly exchMaxBack: Float64Array;
  private readonly prevExchKind: Float64Array;
  private readonly exchKindDecreases: Float64Array;
  private readonly exchKindMaxBack: Float64Array;

  constructor(private readonly ds: DatasetHead) {
    const n = (this.n = ds.streams.length);
    this.prevExch = new Float64Array(n).fill(-Infinity);
    this.exchDecreases = new Float64Array(n);
    this.exchMaxBack = new Float64Array(n);
    this.prevExchKind = new Float64Array(n * K).fill(-Infinity);
    this.exchKindDecreases = new Float64Array(n * K);
    this.exchKindMaxBack = new Float64Array(n * K);
  }

  onRow(b: EventBatch, i: number, row: number): void {
    const local = b.localNs[i]!;
    // Every row counts for local order, also rows of streams the manifest does not list.
    if (local < this.prevLocal) {
      this.localDecreases++;
      const back = (this.prevLocal - local) / 1e6;
      if (back > this.localMaxBackMs) this.localMaxBackMs = back;
      if (this.localExamples.length < MAX_EXAMPLES) {
        this.localExamples.push({
          row,
          local_ts_ns: nsText(this.ds, local),
          local_ts: isoText(this.ds, local),
          prev_local_ts_ns: nsText(this.ds, this.prevLocal),
          step_back_ms: round3(back)!,
        });
      }
    }
    this.prevLocal = local;
    const s = b.stream[i]!;
    if (s >= this.n || (b.flags[i]! & Flag.NoExchangeTime) !== 0) return;
    const e = b.exchNs[i]!;
    if (e < this.prevExch[s]!) {
      this.exchDecreases[s]!++;
      const back = this.prevExch[s]! - e;
      if (back > this.exchMaxBack[s]!) this.exchMaxBack[s] = back;
    }
    this.prevExch[s] = e;
    const kind = b.kind[i]!;
    if (kind >= K) return;
    const j = s * K + kind;
    if (e < this.prevExchKind[j]!) {
      this.exchKindDecreases[j]!++;
      const back = this.prevExchKind[j]! - e;
      if (back > this.exchKindMaxBack[j]!) this.exchKindMaxBack[j] = back;
    }
    this.prevExchKind[j] = e;
  }

  finish(): TimeOrderReport {
    const findings = emptyFindings(this.n);
    const exchOrder = this.ds.streams.map((st, s) => {
      const byKind: Record<string, OrderCount> = {};
      for (let k = 0; k < K; k++) {
        const j = s * K + k;
        if (this.prevExchKind[j]! !== -Infinity) {
          byKind[kindName(k)] = { decreases: this.exchKindDecreases[j]!, max_step_back_ms: round3(this.exchKindMaxBack[j]! / 1e6)! };
        }
      }
      if (this.exchDecreases[s]! > 0) {
        findings[s]!.notes.push(
          `${streamLabel(st)}: exch_ts goes back ${this.exchDecreases[s]} time(s) between rows of the stream (by up to ${round3(this.exchMaxBack[s]! / 1e6)} ms; normal where channels interleave)`,
        );
      }
      return { decreases: this.exchDecreases[s]!, max_step_back_ms: round3(this.exchMaxBack[s]! / 1e6)!, by_kind: byKind };
    });
    const notes: string[] = [];
    if (this.localDecreases > 0) {
      notes.push(`local_ts goes back ${this.localDecreases} time(s) in file order (by up to ${round3(this.localMaxBackMs)} ms)`);
    }
    return {
      local_ts_order: { decreases: this.localDecreases, max_step_back_ms: round3(this.localMaxBackMs)!, examples: this.localExamples },
      exch_ts_order: exchOrder,
      findings,
      notes,
    };
  }
}
