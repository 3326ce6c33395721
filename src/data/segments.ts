// Reading segment files batch by batch, tolerating a segment whose writer was killed mid-write.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { threadId } from 'node:worker_threads';
import { Message, RecordBatch, RecordBatchReader } from 'apache-arrow';
import { emptySegmentInfo, type SegmentInfo } from './manifest.js';
import { EVENT_KIND_NAMES } from './types.js';

/**
 * The file's IPC messages, one buffer each (prefix + metadata + body), read synchronously. Handing arrow
 * whole messages spares it from joining chunks; memory stays bounded by one message at a time.
 * A message cut off by a killed writer ends the iteration with `state.truncated` set.
 */
function* fileMessages(file: string, state: { truncated: string | null }): Generator<Uint8Array> {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(8);
  let pos = 0;
  const readExactly = (buf: Uint8Array, off: number, len: number): number => {
    let got = 0;
    while (got < len) {
      const n = fs.readSync(fd, buf, off + got, len - got, pos + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  };
  try {
    for (;;) {
      const got = readExactly(head, 0, 8);
      if (got === 0) return;
      if (got < 8) {
        state.truncated = `message prefix cut off at byte ${pos}`;
        return;
      }
      // Current framing: 0xFFFFFFFF then the metadata length; legacy framing: the length alone.
      const continuation = head.readInt32LE(0) === -1;
      const metaLen = continuation ? head.readInt32LE(4) : head.readInt32LE(0);
      const prefix = continuation ? 8 : 4;
      if (metaLen === 0) {
        yield new Uint8Array(head.subarray(0, prefix));
        return;
      }
      pos += prefix;
      const metaBuf = Buffer.allocUnsafe(metaLen);
      if (readExactly(metaBuf, 0, metaLen) < metaLen) {
        state.truncated = `message metadata cut off at byte ${pos}`;
        return;
      }
      pos += metaLen;
      const bodyLen = Message.decode(metaBuf).bodyLength;
      const msg = new Uint8Array(prefix + metaLen + bodyLen);
      msg.set(head.subarray(0, prefix), 0);
      msg.set(metaBuf, prefix);
      if (readExactly(msg, prefix + metaLen, bodyLen) < bodyLen) {
        state.truncated = `message body cut off at byte ${pos}`;
        return;
      }
      pos += bodyLen;
      yield msg;
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
  if (!ensureUnpacked(file)) throw new Error(`segment file missing: ${file}`);
  if (fs.statSync(file).size === 0) return { truncated: `${file}: empty file (the writer stopped before its first batch)` };
  let count = 0;
  const state = { truncated: null as string | null };
  const reader = RecordBatchReader.from(fileMessages(file, state));
  for (const batch of reader) {
    count++;
    onBatch(batch);
  }
  if (state.truncated) return { truncated: `${file}: cut off after ${count} complete batch(es) (${state.truncated})` };
  return { truncated: null };
}

/**
 * Datasets shipped in git (the bundled one) keep each segment gzipped as `<name>.gz` to stay small;
 * the first reader unpacks it beside the original name, and unpacks it again when the .gz is newer than that
 * copy. Returns false if neither file exists.
 */
export function ensureUnpacked(file: string): boolean {
  const gz = `${file}.gz`;
  const hasGz = fs.existsSync(gz);
  // An unpacked copy older than its .gz is stale (a pull or checkout brought a new bundled dataset): unpack again.
  if (fs.existsSync(file) && !(hasGz && fs.statSync(gz).mtimeMs > fs.statSync(file).mtimeMs)) return true;
  if (!hasGz) return false;
  // Worker threads share the pid: the thread id keeps their temporary files apart.
  const tmp = `${file}.unpacking-${process.pid}-${threadId}`;
  fs.writeFileSync(tmp, zlib.gunzipSync(fs.readFileSync(gz)));
  fs.renameSync(tmp, file);
  return true;
}

/** Segments on disk that the manifest does not list (a writer that crashed before updating it). */
export function scanSegmentFiles(dir: string, listed: ReadonlySet<string>): SegmentInfo[] {
  const out: SegmentInfo[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const m = /^events-(\d+)\.arrow$/.exec(f);
    if (!m || listed.has(f)) continue;
    const index = Number(m[1]);
    const raw = `raw-${m[1]}.arrow`;
    out.push(describeSegment(dir, index, f, fs.existsSync(path.join(dir, raw)) ? raw : ''));
  }
  return out;
}

/** Read a segment's files to recompute what the manifest says of it. */
export function describeSegment(dir: string, index: number, events: string, raw: string): SegmentInfo {
  const seg = emptySegmentInfo(index, events, raw, true);
  seg.bytes = fs.statSync(path.join(dir, events)).size;
  seg.rawBytes = raw ? fs.statSync(path.join(dir, raw)).size : 0;
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
