// Reading segment files batch by batch, tolerating a segment whose writer was killed mid-write.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { threadId } from 'node:worker_threads';
import { Message, MessageHeader, RecordBatch, RecordBatchReader } from 'apache-arrow';
import { emptySegmentInfo, type SegmentInfo } from './manifest.js';
import { EVENT_KIND_NAMES } from './types.js';

/** A segment file that is not what the writer writes (overwritten bytes, a foreign file): reading it stops
 *  with this error, which names the file, the message and the byte. */
export class SegmentCorruptError extends Error {}

/**
 * The file's IPC messages, one buffer each (prefix + metadata + body), read synchronously. Handing arrow
 * whole messages spares it from joining chunks; memory stays bounded by one message at a time.
 * A message cut off by a killed writer ends the iteration with `state.truncated` set. Every length read from
 * the file is checked against the file's size before anything is allocated from it, so damaged bytes give a
 * SegmentCorruptError (or a cut-off report), never a huge allocation.
 */
function* fileMessages(file: string, state: { truncated: string | null; messages: number; recordBatches: number; completeBytes: number }): Generator<Uint8Array> {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
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
  const corrupt = (what: string) =>
    new SegmentCorruptError(`${file}: damaged at byte ${pos} (IPC message ${state.messages + 1}): ${what}`);
  try {
    for (;;) {
      const got = readExactly(head, 0, Math.min(8, size - pos));
      if (got === 0) return;
      if (got < 4) {
        state.truncated = `message prefix cut off at byte ${pos}`;
        return;
      }
      // Current framing: 0xFFFFFFFF then the metadata length; legacy framing: the length alone.
      const continuation = head.readInt32LE(0) === -1;
      if (continuation && got < 8) {
        state.truncated = `message prefix cut off at byte ${pos}`;
        return;
      }
      const metaLen = continuation ? head.readInt32LE(4) : head.readInt32LE(0);
      const prefix = continuation ? 8 : 4;
      if (metaLen === 0) {
        state.completeBytes = pos + prefix;
        yield new Uint8Array(head.subarray(0, prefix));
        return;
      }
      if (metaLen < 0) throw corrupt(`metadata length ${metaLen} is negative`);
      if (pos + prefix + metaLen > size) {
        // A writer killed mid-write leaves exactly this; so do damaged bytes. Either way nothing is allocated.
        state.truncated = `message metadata of ${metaLen} bytes at byte ${pos} goes past the end of the file (${size} bytes)`;
        return;
      }
      const start = pos;
      pos += prefix;
      const metaBuf = Buffer.allocUnsafe(metaLen);
      if (readExactly(metaBuf, 0, metaLen) < metaLen) {
        state.truncated = `message metadata cut off at byte ${pos}`;
        return;
      }
      pos += metaLen;
      let bodyLen: number;
      let isBatch = false;
      try {
        const m = Message.decode(metaBuf);
        bodyLen = Number(m.bodyLength);
        isBatch = m.headerType === MessageHeader.RecordBatch;
      } catch (e) {
        pos = start;
        throw corrupt(`metadata is not an Arrow message (${(e as Error).message})`);
      }
      if (!Number.isSafeInteger(bodyLen) || bodyLen < 0) {
        pos = start;
        throw corrupt(`body length ${bodyLen} is not a byte count`);
      }
      if (pos + bodyLen > size) {
        state.truncated = `message body of ${bodyLen} bytes at byte ${pos} goes past the end of the file (${size} bytes)`;
        return;
      }
      const msg = new Uint8Array(prefix + metaLen + bodyLen);
      msg.set(head.subarray(0, prefix), 0);
      msg.set(metaBuf, prefix);
      if (readExactly(msg, prefix + metaLen, bodyLen) < bodyLen) {
        state.truncated = `message body cut off at byte ${pos}`;
        return;
      }
      pos += bodyLen;
      state.messages++;
      if (isBatch) state.recordBatches++;
      state.completeBytes = pos;
      yield msg;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export interface BatchReadResult {
  /** Set when the file ended inside a batch (a writer killed mid-write): the batches before it were read. */
  truncated: string | null;
  /** Complete record batches read. */
  batches: number;
  /** Bytes up to the end of the last complete IPC message (where a writer resuming the file may cut it). */
  completeBytes: number;
}

/**
 * Calls `onBatch` for each complete record batch of an Arrow IPC stream file (with its 0-based index). A file
 * cut off mid-batch stops at its last complete batch and is reported in the result, not thrown. Bytes that
 * arrow cannot read throw a SegmentCorruptError naming the file and the batch.
 */
export function forEachBatch(file: string, onBatch: (batch: RecordBatch, index: number) => void): BatchReadResult {
  if (!ensureUnpacked(file)) throw new Error(`segment file missing: ${file}`);
  if (fs.statSync(file).size === 0) return { truncated: `${file}: empty file (the writer stopped before its first batch)`, batches: 0, completeBytes: 0 };
  let count = 0;
  const state = { truncated: null as string | null, messages: 0, recordBatches: 0, completeBytes: 0 };
  const reader = RecordBatchReader.from(fileMessages(file, state));
  const it = reader[Symbol.iterator]();
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = it.next();
    } catch (e) {
      if (e instanceof SegmentCorruptError) throw e;
      throw new SegmentCorruptError(`${file}: batch ${count + 1} cannot be read (${(e as Error).message})`);
    }
    if (next.done) break;
    // Arrow hands an empty stream (schema, no batch) over as one empty batch: that is no batch of the file.
    if (next.value.numRows === 0 && state.recordBatches === 0) continue;
    onBatch(next.value, count);
    count++;
  }
  if (state.truncated) return { truncated: `${file}: cut off after ${count} complete batch(es) (${state.truncated})`, batches: count, completeBytes: state.completeBytes };
  return { truncated: null, batches: count, completeBytes: state.completeBytes };
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
