// Recorder throughput: the exchange simulator, in a child process (so that this process's CPU time is the
// recorder's alone), replays binance-usdm BTCUSDT of the bundled dataset at speed max, and the recorder
// records it (trade, depth@0ms, bookTicker: what `latencylab record` subscribes to). Baseline, in the same
// run: the same simulator sending the same streams to a trivial client that only counts frames.
//
// At speed max the simulator sends as fast as its client reads (it pauses while a socket holds 1 MiB
// unsent), so the recorder's receive rate is the highest it sustains from this simulator; when that is
// about the baseline's, the simulator is the limit and the recorder's CPU time per message says how far
// above it the recorder would go on one core.
//
// "Without falling behind" is measured, not assumed: every frame the simulator sent must be recorded, and
// the lag — when the recorder stamped the n-th frame minus when the simulator had sent n frames (sampled
// every ms in the child) — is reported at its largest and at the end.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { openDataset } from '../data/reader.js';
import { RawKind } from '../data/types.js';
import { feedAdapter } from '../exchanges/registry.js';
import { MonotonicClock } from '../recorder/clock.js';
import { startRecorder } from '../recorder/recorder.js';
import { startExchangeSim } from '../exchange-sim/server.js';

const EXCHANGE = 'binance-usdm' as const;
const SYMBOL = 'BTCUSDT';
/** Runs of each (alternating); medians are reported. */
const RUNS = 3;

/** Wall-clock ms with sub-ms precision, comparable across processes. */
const wallMs = () => performance.timeOrigin + performance.now();

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---- the child: the simulator alone ----

interface SimReport {
  messagesSent: number;
  /** (wall ms, market-data frames sent by then), whenever the count changed; polled every ms. */
  curveMs: number[];
  curveSent: number[];
  /** CPU time of the child from its first frame sent to the end (µs). */
  cpuUs: number;
}

type FromChild = { type: 'ready'; base: string } | { type: 'done'; report: SimReport };

async function simChild(dataset: string): Promise<void> {
  const sim = await startExchangeSim({ dataset, port: 0, speed: 'max' });
  const curveMs: number[] = [];
  const curveSent: number[] = [];
  let seen = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const sample = () => {
    const n = sim.stats().messagesSent;
    if (n === seen) return;
    if (seen === 0) cpu0 = process.cpuUsage();
    curveMs.push(wallMs());
    curveSent.push(n);
    seen = n;
  };
  const poll = setInterval(sample, 1);
  process.on('message', () => void sim.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', base: sim.baseUrl(EXCHANGE) } satisfies FromChild);
  await sim.done;
  clearInterval(poll);
  sample();
  const cpu = process.cpuUsage(cpu0);
  process.send!({ type: 'done', report: { messagesSent: seen, curveMs, curveSent, cpuUs: cpu.user + cpu.system } } satisfies FromChild);
}

// ---- the parent ----

class SimProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<string>;
  readonly done: Promise<SimReport>;

  constructor(dataset: string) {
    this.child = fork(fileURLToPath(import.meta.url), ['--sim-child', dataset], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const failed = new Promise<never>((_, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) => reject(new Error(`exchange-sim child exited (code ${code}) before the replay ended`)));
    });
    failed.catch(() => {});
    const message = <T extends FromChild['type']>(type: T) =>
      Promise.race([
        new Promise<Extract<FromChild, { type: T }>>((resolve) => {
          const on = (m: FromChild) => {
            if (m.type !== type) return;
            this.child.off('message', on);
            resolve(m as Extract<FromChild, { type: T }>);
          };
          this.child.on('message', on);
        }),
        failed,
      ]);
    this.ready = message('ready').then((m) => m.base);
    this.done = message('done').then((m) => m.report);
    this.done.catch(() => {});
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send('close');
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface RunResult {
  /** Receive times (wall ms) of the data frames, in order. */
  recv: Float64Array;
  cpuUs: number;
  sim: SimReport;
  notes: { gaps: number; snapshots: number; other: number };
}

const rate = (r: RunResult) => (r.recv.length - 1) / ((r.recv[r.recv.length - 1]! - r.recv[0]!) / 1000);
const sendRate = (r: RunResult) => {
  const { curveMs: t, curveSent: n } = r.sim;
  return (n[n.length - 1]! - n[0]!) / ((t[t.length - 1]! - t[0]!) / 1000);
};

/** Largest and final lag (ms): receive time of frame n minus the time the simulator had sent n frames. */
function lag(r: RunResult): { max: number; final: number } {
  const { curveMs, curveSent } = r.sim;
  let max = -Infinity;
  let final = NaN;
  for (let j = 0; j < curveMs.length; j++) {
    const n = Math.min(curveSent[j]!, r.recv.length);
    final = r.recv[n - 1]! - curveMs[j]!;
    max = Math.max(max, final);
  }
  return { max, final };
}

async function baselineRun(dataset: string): Promise<RunResult> {
  const sim = new SimProcess(dataset);
  try {
    const base = await sim.ready;
    const url = feedAdapter(EXCHANGE).plan([SYMBOL], ['trade', 'depth', 'bbo'], { root: base })[0]!.url;
    const recv: number[] = [];
    const cpu0 = process.cpuUsage();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('message', () => recv.push(wallMs()));
    ws.on('error', () => {});
    const report = await sim.done;
    const deadline = performance.now() + 10_000;
    while (recv.length < report.messagesSent && performance.now() < deadline) await sleep(2);
    const cpu = process.cpuUsage(cpu0);
    ws.terminate();
    return { recv: Float64Array.from(recv), cpuUs: cpu.user + cpu.system, sim: report, notes: { gaps: 0, snapshots: 0, other: 0 } };
  } finally {
    await sim.close();
  }
}

async function recorderRun(dataset: string): Promise<RunResult> {
  const sim = new SimProcess(dataset);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-bench-rec-'));
  const out = path.join(dir, 'ds');
  try {
    const base = await sim.ready;
    const clock = new MonotonicClock();
    // The recorder's stamps (ns since the epoch, anchored to Date.now()) on this process's wallMs() scale.
    const offsetMs = Number(clock.now()) / 1e6 - wallMs();
    const cpu0 = process.cpuUsage();
    const rec = await startRecorder({ exchange: EXCHANGE, symbols: [SYMBOL], out, url: base, clock });
    const report = await sim.done;
    const deadline = performance.now() + 10_000;
    while (rec.stats().messages < report.messagesSent && performance.now() < deadline) await sleep(2);
    await rec.stop();
    const cpu = process.cpuUsage(cpu0);
    const st = rec.stats();
    // Receive times: the recorder's own stamps (local_ts) of the frames it kept.
    const recv: number[] = [];
    openDataset(out).forEachRawBatch((b) => {
      for (let i = 0; i < b.length; i++) if (b.kind[i] === RawKind.Received) recv.push(Number(b.localTs[i]!) / 1e6 - offsetMs);
    });
    return {
      recv: Float64Array.from(recv),
      cpuUs: cpu.user + cpu.system,
      sim: report,
      notes: { gaps: st.gaps, snapshots: st.snapshots.applied, other: st.messages - recv.length + st.malformed },
    };
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchRecorder(root: string): Promise<void> {
  const dataset = path.join(root, 'datasets/binance-2024-08-08');
  const t0 = performance.now();
  const bases: RunResult[] = [];
  const recs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    bases.push(await baselineRun(dataset));
    recs.push(await recorderRun(dataset));
  }
  const m = (rs: RunResult[], f: (r: RunResult) => number) => median(rs.map(f));
  const recRate = m(recs, rate);
  const baseRate = m(bases, rate);
  const recCpu = m(recs, (r) => r.cpuUs / r.recv.length);
  const baseCpu = m(bases, (r) => r.cpuUs / r.recv.length);
  const simCpu = m(recs, (r) => r.sim.cpuUs / r.sim.messagesSent);
  const n = recs[0]!.sim.messagesSent;
  const allKept = recs.every((r) => r.recv.length === r.sim.messagesSent) && bases.every((r) => r.recv.length === r.sim.messagesSent);
  const recLag = recs.map(lag);
  const baseLag = bases.map(lag);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`\nrecorder (${EXCHANGE} ${SYMBOL} trade + depth@0ms + bookTicker, ${fmt(n)} messages of the bundled dataset; simulator at speed max in a child process; median of ${RUNS} runs)`);
  console.log(`  recorder                 ${fmt(recRate).padStart(9)} messages/s received  (simulator sent ${fmt(m(recs, sendRate))}/s meanwhile)`);
  console.log(`  baseline counting client ${fmt(baseRate).padStart(9)} messages/s received  (simulator sent ${fmt(m(bases, sendRate))}/s meanwhile)`);
  console.log(`  ratio recorder / baseline ${(recRate / baseRate).toFixed(2)}`);
  console.log(`  recorder CPU  ${recCpu.toFixed(1).padStart(5)} µs/message  (this process, user+system, from start to stop; one core at this cost: ${fmt(1e6 / recCpu)} messages/s)`);
  console.log(`  baseline CPU  ${baseCpu.toFixed(1).padStart(5)} µs/message  (the counting client: WebSocket framing and decoding only)`);
  console.log(`  simulator CPU ${simCpu.toFixed(1).padStart(5)} µs/message sent  (the child, during the recorder runs)`);
  console.log(
    `  kept up: ${allKept ? 'every frame sent was received, in every run' : 'FRAMES MISSING: ' + recs.map((r) => `${r.recv.length}/${r.sim.messagesSent}`).join(', ')}; ` +
      `gaps ${recs.map((r) => r.notes.gaps).join('/')}, REST snapshots ${recs.map((r) => r.notes.snapshots).join('/')}`,
  );
  console.log(
    `  lag (n-th frame received − n frames sent), per run: recorder at the end ${recLag.map((l) => ms(l.final)).join(' / ')}, largest ${recLag.map((l) => ms(l.max)).join(' / ')}`,
  );
  console.log(`                                                     baseline at the end ${baseLag.map((l) => ms(l.final)).join(' / ')}, largest ${baseLag.map((l) => ms(l.max)).join(' / ')}`);
  console.log(`  (a lag above a few ms is frames waiting in the socket buffers: the recorder is reading slower than the simulator could send)`);
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

if (process.argv[2] === '--sim-child' && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await simChild(process.argv[3]!);
}
