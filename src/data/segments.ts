// Reading segment files batch by batch, tolerating a segment whose writer was killed mid-write.
import fs from 'node:fs';
import path from 'node:path';
import { RecordBatch, RecordBatchReader } from 'apache-arrow';
import type { SegmentInfo } from './manifest.js';
import { EVENT_KIND_NAMES } from './types.js';

const CHUNK = 1 << 20;

/** The file's bytes in 1 MiB chunks, read synchronously: memory stays bounded whatever the file's size. */
function* fileChunks(file: string): Generator<Uint8Array> {
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) return;
      yield n === CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

export interface BatchReadResult {
  /** Set when the file ended inside a batch (a writer killed mid-write): the batches before it were read. */
  truncated: string | null;
}

/**
 * Calls `onBatch` for each complete record batch of an Arrow IPC stream file. A file cut off mid-batch
 * stops at its last complete batch and is reported in the result, not thrown.
 */
export function forEachBatch(file: string, onBatch: (batch: RecordBatch) => void): BatchReadResult {
  if (!fs.existsSync(file)) throw new Error(`segment file missing: ${file}`);
  if (fs.statSync(file).size === 0) return { truncated: `${file}: empty file (the writer stopped before its first batch)` };
  let count = 0;
  try {
    const reader = RecordBatchReader.from(fileChunks(file));
    for (const batch of reader) {
      count++;
      onBatch(batch);
    }
    return { truncated: null };
  } catch (e) {
    const msg = (e as Error).message;
    if (/ipc|arrow|message|buffer|offset|length|range|Expected|schema/i.test(msg) || e instanceof RangeError) {
      return { truncated: `${file}: cut off after ${count} complete batch(es) (${msg})` };
    }
    throw e;
  }
}

/** Segments on disk that the manifest may not list (a writer that crashed before updating it). */
export function scanSegmentFiles(dir: string): SegmentInfo[] {
  const out: SegmentInfo[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const m = /^events-(\d+)\.arrow$/.exec(f);
    if (!m) continue;
    const index = Number(m[1]);
    const raw = `raw-${m[1]}.arrow`;
    out.push(describeSegment(dir, index, f, fs.existsSync(path.join(dir, raw)) ? raw : ''));
  }
  return out;
}

/** Read a segment's files to recompute what the manifest says of it. */
export function describeSegment(dir: string, index: number, events: string, raw: string): SegmentInfo {
  const seg: SegmentInfo = {
    index,
    events,
    raw,
    rows: 0,
    rawRows: 0,
    localTsMin: null,
    localTsMax: null,
    exchTsMin: null,
    exchTsMax: null,
    counts: {},
    bytes: fs.statSync(path.join(dir, events)).size,
    rawBytes: raw ? fs.statSync(path.join(dir, raw)).size : 0,
    closed: true,
  };
  let lmin: bigint | null = null;
  let lmax: bigint | null = null;
  let emin: bigint | null = null;
  let emax: bigint | null = null;
  const kinds = new Float64Array(256);
  forEachBatch(path.join(dir, events), (b) => {
    const n = b.numRows;
    seg.rows += n;
    const l = b.getChild('local_ts')!.data[0]!.values as BigInt64Array;
    const e = b.getChild('exch_ts')!.data[0]!.values as BigInt64Array;
    const k = b.getChild('kind')!.data[0]!.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      const li = l[i]!;
      const ei = e[i]!;
      if (lmin === null || li < lmin) lmin = li;
      if (lmax === null || li > lmax) lmax = li;
      if (emin === null || ei < emin) emin = ei;
      if (emax === null || ei > emax) emax = ei;
      kinds[k[i]!]!++;
    }
  });
  if (raw) {
    forEachBatch(path.join(dir, raw), (b) => {
      seg.rawRows += b.numRows;
    });
  }
  seg.localTsMin = lmin === null ? null : String(lmin);
  seg.localTsMax = lmax === null ? null : String(lmax);
  seg.exchTsMin = emin === null ? null : String(emin);
  seg.exchTsMax = emax === null ? null : String(emax);
  kinds.forEach((v, k) => {
    if (v > 0) seg.counts[EVENT_KIND_NAMES[k] ?? `kind_${k}`] = v;
  });
  return seg;
}
