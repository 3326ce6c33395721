// The simulator's replay clock: plays a dataset's recorded frames (raw table, kind "received") at their
// recorded local times divided by the speed, and applies the normalized events to the books in step, so
// that when a frame recorded at time t goes out, every event up to t has been applied. Streams without
// recorded frames get theirs synthesized: their rows are grouped into messages (synth.ts) and handed to the
// exchange's server side at their local time, right after they are applied.
//
// A dataset is read one segment at a time (events and raw frames of one segment cover the same time
// range), so memory stays bounded by one segment whatever the dataset's length.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { BookBuilder } from '../book/book-builder.js';
import type { Dataset, EventBatch } from '../data/reader.js';
import type { SegmentInfo } from '../data/manifest.js';
import { relativeNs } from '../data/time.js';
import { Flag, RawKind, type ExchangeId } from '../data/types.js';
import type { ReplayFrame } from './types.js';
import { channelKey, MessageAssembler, type EventMessage, type FrameClassifier } from './synth.js';

interface LoadedSegment {
  frames: ReplayFrame[];
  events: EventBatch[];
}

/** Events and recorded frames (of the served exchanges) of one segment, in memory. */
export function loadSegment(ds: Dataset, seg: SegmentInfo, served: ReadonlySet<ExchangeId>): LoadedSegment {
  const events: EventBatch[] = [];
  // The reader's arrays are views valid during the callback: keep copies.
  ds.forEachEventBatchOf(seg, (b) => {
    events.push({
      length: b.length,
      segment: b.segment,
      localTs: b.localTs.slice(),
      exchTs: b.exchTs.slice(),
      localNs: b.localNs.slice(0, b.length),
      exchNs: b.exchNs.slice(0, b.length),
      publishTs: b.publishTs.slice(),
      pubNs: b.pubNs.slice(0, b.length),
      hasPublishTs: b.hasPublishTs,
      stream: b.stream.slice(),
      kind: b.kind.slice(),
      side: b.side.slice(),
      price: b.price.slice(),
      size: b.size.slice(),
      id: b.id.slice(),
      prevId: b.prevId.slice(),
      flags: b.flags.slice(),
    });
  });
  const frames: ReplayFrame[] = [];
  ds.forEachRawBatchOf(seg, (b) => {
    const t = relativeNs(b.localTs, ds.originNs);
    for (let i = 0; i < b.length; i++) {
      if (b.kind[i] !== RawKind.Received) continue;
      const exchange = b.exchange(i);
      if (!served.has(exchange)) continue;
      frames.push({ t: t[i]!, exchange, text: b.data(i) });
    }
  });
  // Rows are written in receive order; a stable sort keeps that order among equal times.
  for (let i = 1; i < frames.length; i++) {
    if (frames[i]!.t < frames[i - 1]!.t) {
      frames.sort((a, b) => a.t - b.t);
      break;
    }
  }
  return { frames, events };
}

export interface RecordedFrames {
  /** Exchanges with recorded frames (whether or not the simulator serves them). */
  exchanges: ExchangeId[];
  /** channelKey(exchange, symbol, channel) of every channel with at least one recorded frame. */
  channels: Set<string>;
}

/**
 * A scan of the raw tables (kind "received"): which exchanges, and which (exchange, symbol, channel) of the
 * exchanges that have a classifier, have recorded frames. Only a prefix of each frame is read where that
 * names it (the classifiers fall back to the whole text).
 */
export function scanRecordedFrames(ds: Dataset, classifiers: ReadonlyMap<ExchangeId, FrameClassifier>): RecordedFrames {
  const found = new Set<ExchangeId>();
  const channels = new Set<string>();
  const decoder = new TextDecoder();
  ds.forEachRawBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      if (b.kind[i] !== RawKind.Received) continue;
      const e = b.exchange(i);
      found.add(e);
      const classify = classifiers.get(e);
      if (!classify) continue;
      const bytes = b.bytes(i);
      let c = classify(decoder.decode(bytes.subarray(0, PREFIX_BYTES)));
      if (c === null && bytes.length > PREFIX_BYTES) c = classify(decoder.decode(bytes));
      if (c !== null) channels.add(channelKey(e, c.symbol, c.channel));
    }
  });
  return { exchanges: [...found], channels };
}

/** A frame's first bytes name its stream in every layout the exchanges use. */
const PREFIX_BYTES = 160;

export interface ReplayClockOptions {
  speed: number | 'max';
  loop: boolean;
  served: ReadonlySet<ExchangeId>;
  /** A frame's time has come. */
  dispatch(frame: ReplayFrame): void;
  /**
   * Per stream index: bit mask (bit = event kind) of the rows the dataset holds no recorded frames for.
   * Those rows are grouped into messages and handed to `dispatchMessage` at their local time.
   */
  synthKinds?: Uint16Array;
  /** A synthesized stream's message (its rows are already applied to the books). */
  dispatchMessage?(m: EventMessage): void;
  /** Speed 'max' waits while this holds (a client's socket buffer is full). */
  backpressured(): boolean;
  /** The dataset starts again (loop). */
  restart(): void;
}

export class ReplayClock {
  /** Replay position: recorded local time of the last frame played, ns relative to the dataset origin. */
  position: number | null = null;
  framesReplayed = 0;
  passes = 0;
  finished = false;
  private started = false;
  private stopped = false;
  private readonly endPromise: Promise<void>;
  private resolveEnd!: () => void;

  constructor(
    private readonly ds: Dataset,
    private readonly books: BookBuilder,
    private readonly opts: ReplayClockOptions,
  ) {
    this.endPromise = new Promise((r) => (this.resolveEnd = r));
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Resolves when the last frame has been played (never with loop, until stopped). */
  get ended(): Promise<void> {
    return this.endPromise;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // Not in the caller's turn: whatever made the clock start (a subscription) gets its reply out first.
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
    run.then(
      () => this.resolveEnd(),
      (e) => {
        process.stderr.write(`exchange-sim: replay failed: ${(e as Error).stack ?? e}\n`);
        this.finished = true;
        this.resolveEnd();
      },
    );
  }

  stop(): void {
    this.stopped = true;
    if (!this.started) this.resolveEnd();
  }

  private async run(): Promise<void> {
    const { speed } = this.opts;
    const synthKinds = this.opts.synthKinds;
    const dispatchMessage = this.opts.dispatchMessage;
    const synth = synthKinds !== undefined && dispatchMessage !== undefined && synthKinds.some((m) => m !== 0);
    const assembler = new MessageAssembler();
    const emit = (m: EventMessage) => {
      dispatchMessage!(m);
      this.framesReplayed++;
    };
    for (;;) {
      let t0: number | null = null;
      let wall0 = 0;
      for (const seg of this.ds.segments) {
        if (this.stopped) return;
        const loadStart = performance.now();
        const { frames, events } = loadSegment(this.ds, seg, this.opts.served);
        // Reading a segment takes wall time the recording did not: the schedule moves by as much.
        wall0 += performance.now() - loadStart;
        // Times at which a synthesized message is complete (its MessageEnd row), in row order.
        const due: number[] = [];
        if (synth) {
          for (const b of events) {
            for (let i = 0; i < b.length; i++) {
              if ((b.flags[i]! & Flag.MessageEnd) !== 0 && ((synthKinds![b.stream[i]!] ?? 0) >> b.kind[i]!) & 1) due.push(b.localNs[i]!);
            }
          }
        }
        let bi = 0;
        let ri = 0;
        const applyUpTo = (t: number) => {
          while (bi < events.length) {
            const b = events[bi]!;
            const n = b.length;
            if (synth) {
              while (ri < n && b.localNs[ri]! <= t) {
                this.books.apply(b, ri);
                if (((synthKinds![b.stream[ri]!] ?? 0) >> b.kind[ri]!) & 1) assembler.add(b, ri, emit);
                ri++;
              }
            } else {
              while (ri < n && b.localNs[ri]! <= t) this.books.apply(b, ri++);
            }
            if (ri < n) return;
            bi++;
            ri = 0;
          }
        };
        let sinceYield = 0;
        let fi = 0;
        let di = 0;
        while (fi < frames.length || di < due.length) {
          const f = fi < frames.length ? frames[fi]! : null;
          const t = f !== null && (di >= due.length || f.t <= due[di]!) ? f.t : due[di]!;
          if (t0 === null) {
            t0 = t;
            wall0 = performance.now();
          }
          if (speed === 'max') {
            while (this.opts.backpressured() && !this.stopped) {
              await sleep(1);
              sinceYield = 0;
            }
          } else {
            const wait = wall0 + (t - t0) / 1e6 / speed - performance.now();
            if (wait >= 1) {
              await sleep(wait);
              sinceYield = 0;
            }
          }
          if (this.stopped) return;
          // Synthesized messages of time <= t go out here, each right after its rows are applied.
          applyUpTo(t);
          while (di < due.length && due[di]! <= t) di++;
          this.position = t;
          if (f !== null && f.t === t) {
            this.opts.dispatch(f);
            this.framesReplayed++;
            fi++;
          }
          if (++sinceYield >= 256) {
            sinceYield = 0;
            await yieldToLoop();
          }
        }
        applyUpTo(Infinity);
      }
      this.passes++;
      if (!this.opts.loop || this.stopped) break;
      this.books.reset();
      assembler.reset();
      this.opts.restart();
      await yieldToLoop();
    }
    this.finished = true;
  }
}
