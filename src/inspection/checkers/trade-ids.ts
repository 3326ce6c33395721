// Trade-id continuity: where an exchange numbers a symbol's trades consecutively, an id that jumps by more
// than one means trades were lost. A jump is explained when a gap or disconnect marker of the stream comes
// between the two trades (the recorder or importer noticed the loss).
//
// Which streams are checked is read from the data, since inspection knows no exchange by name: a stream is
// "consecutive" when at least MIN_STEPS steps between numeric trade ids were seen (markers reset the
// comparison) and at least CONSECUTIVE_SHARE of them are exactly +1. That holds for Binance spot `@trade`
// (`t`), USD-M and COIN-M `@trade` (`t`) and `@aggTrade` (`a`), which number each symbol's trades one by one;
// not for Bybit (UUID trade ids: -1 in the dataset) or for exchanges whose ids are increasing but sparse.
// The report says, per stream, whether it was checked.
import type { EventBatch } from '../../data/reader.js';
import { EventKind } from '../../data/types.js';
import { emptyFindings, type Checker, type Findings } from '../checker.js';
import { isoText, streamLabel, type DatasetHead } from '../format.js';

/** Steps needed before a stream's numbering is judged. */
export const MIN_STEPS = 20;
/** Share of +1 steps that makes a stream's numbering consecutive. */
export const CONSECUTIVE_SHARE = 0.9;
const MAX_EXAMPLES = 5;

export interface TradeIdJump {
  row: number;
  local_ts: string;
  /** The previous trade's id and this one's. */
  from_id: number;
  to_id: number;
  /** Trade ids missing between them. */
  missing: number;
}

export interface TradeIdCheck {
  /** Whether the stream's trade ids were found consecutive, and so checked. */
  checked: boolean;
  /** Steps between numeric trade ids compared (not across a marker). */
  steps: number;
  /** Steps of exactly +1. */
  consecutive_steps: number;
  /** Steps of more than +1 with no marker between (errors when checked). */
  jumps: number;
  /** Trade ids missing in those jumps. */
  missing_ids: number;
  /** Jumps with a gap or disconnect marker between the two trades. */
  explained_jumps: number;
  /** Steps of 0 or less (repeated or reordered ids). */
  backward_steps: number;
  examples: TradeIdJump[];
}

export interface TradeIdReport {
  trade_ids: TradeIdCheck[];
  findings: Findings[];
}

export class TradeIdChecker implements Checker<TradeIdReport> {
  private readonly n: number;
  /** Previous numeric trade id per stream (NaN: none since the start). */
  private readonly last: Float64Array;
  /** A gap or disconnect marker came since the previous trade. */
  private readonly marked: Uint8Array;
  private readonly checks: TradeIdCheck[];

  constructor(private readonly ds: DatasetHead) {
    const n = (this.n = ds.streams.length);
    this.last = new Float64Array(n).fill(NaN);
    this.marked = new Uint8Array(n);
    this.checks = Array.from({ length: n }, () => ({
      checked: false,
      steps: 0,
      consecutive_steps: 0,
      jumps: 0,
      missing_ids: 0,
      explained_jumps: 0,
      backward_steps: 0,
      examples: [],
    }));
  }

  onRow(b: EventBatch, i: number, row: number): void {
    const s = b.stream[i]!;
    if (s >= this.n) return;
    const kind = b.kind[i]!;
    if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
      this.marked[s] = 1;
      return;
    }
    if (kind !== EventKind.Trade) return;
    const raw = b.id[i]!;
    if (raw < 0n) return; // no numeric id at the exchange
    // Trade ids stay far below 2^53; one BigInt→Number per trade row.
    const id = Number(raw);
    const prev = this.last[s]!;
    this.last[s] = id;
    if (Number.isNaN(prev)) {
      this.marked[s] = 0;
      return;
    }
    const c = this.checks[s]!;
    const step = id - prev;
    if (this.marked[s]) {
      this.marked[s] = 0;
      if (step > 1) c.explained_jumps++;
      return;
    }
    c.steps++;
    if (step === 1) c.consecutive_steps++;
    else if (step <= 0) c.backward_steps++;
    else {
      c.jumps++;
      c.missing_ids += step - 1;
      if (c.examples.length < MAX_EXAMPLES) {
        c.examples.push({ row, local_ts: isoText(this.ds, b.localNs[i]!), from_id: prev, to_id: id, missing: step - 1 });
      }
    }
  }

  finish(): TradeIdReport {
    const findings = emptyFindings(this.n);
    this.ds.streams.forEach((st, s) => {
      const c = this.checks[s]!;
      c.checked = c.steps >= MIN_STEPS && c.consecutive_steps >= CONSECUTIVE_SHARE * c.steps;
      const label = streamLabel(st);
      if (!c.checked) return;
      if (c.jumps > 0) findings[s]!.errors.push(`${label}: ${c.jumps} trade id jump(s) that no gap marker explains (${c.missing_ids} trade id(s) missing)`);
      if (c.explained_jumps > 0) findings[s]!.notes.push(`${label}: ${c.explained_jumps} trade id jump(s) across a gap or disconnect marker`);
      if (c.backward_steps > 0) findings[s]!.notes.push(`${label}: trade ids repeat or go back ${c.backward_steps} time(s)`);
    });
    return { trade_ids: this.checks, findings };
  }
}
