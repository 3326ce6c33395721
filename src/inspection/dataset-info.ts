// What `latencylab dataset info` computes: a pure function of a dataset folder returning a plain object (the
// --json output, documented in docs/cli.md). The CLI only formats it. One pass over the events table through
// Dataset.forEachEventBatch's typed arrays, memory bounded by the number of streams.
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from '../data/manifest.js';
import { openDataset, type ReadProblem } from '../data/reader.js';
import { Flag, RAW_KIND_NAMES } from '../data/types.js';
import { countsObject, round3, span, type TimeSpan } from './format.js';

export interface StreamSummary {
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  rows: number;
  /** Rows per event kind name. */
  counts: Record<string, number>;
  time: TimeSpan;
}

export interface SegmentSummary {
  index: number;
  events_file: string;
  raw_file: string;
  /** Rows actually read (a cut-off segment holds fewer than its manifest says). */
  rows: number;
  /** Rows the manifest lists for it (null for a segment the manifest does not list). */
  manifest_rows: number | null;
  raw_rows: number;
  events_bytes: number;
  raw_bytes: number;
  closed: boolean;
  listed_in_manifest: boolean;
}

export interface DatasetInfo {
  dir: string;
  format_version: number;
  /** Where the rows' publish time comes from: the publish_ts column (format 2 on), or exch_ts for a dataset
   *  written before it existed (publish time read as the exchange time). */
  publish_time: 'publish_ts' | 'exch_ts';
  source: Record<string, unknown>;
  exchanges: string[];
  streams: StreamSummary[];
  time: TimeSpan;
  rows: number;
  counts: Record<string, number>;
  raw_messages: number;
  raw_counts: Record<string, number>;
  events_bytes: number;
  raw_bytes: number;
  manifest_bytes: number;
  total_bytes: number;
  /** events_bytes / rows. */
  bytes_per_event: number | null;
  /** total_bytes / rows. */
  total_bytes_per_event: number | null;
  segments: SegmentSummary[];
  problems: ReadProblem[];
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export function datasetInfo(dir: string): DatasetInfo {
  const ds = openDataset(dir);
  const nStreams = ds.streams.length;
  const counts = new Float64Array(256 * Math.max(1, nStreams + 1));
  const lmin = new Float64Array(nStreams + 1).fill(Infinity);
  const lmax = new Float64Array(nStreams + 1).fill(-Infinity);
  const emin = new Float64Array(nStreams + 1).fill(Infinity);
  const emax = new Float64Array(nStreams + 1).fill(-Infinity);
  const segRows = new Map<number, number>();
  const segRawRows = new Map<number, number>();
  let rows = 0;
  // Slot nStreams holds rows whose stream index the manifest does not list.
  const total = nStreams;
  ds.forEachEventBatch((b) => {
    const n = b.length;
    rows += n;
    segRows.set(b.segment, (segRows.get(b.segment) ?? 0) + n);
    for (let i = 0; i < n; i++) {
      let s = b.stream[i]!;
      if (s >= nStreams) s = total;
      counts[s * 256 + b.kind[i]!]!++;
      const l = b.localNs[i]!;
      if (l < lmin[s]!) lmin[s] = l;
      if (l > lmax[s]!) lmax[s] = l;
      if ((b.flags[i]! & Flag.NoExchangeTime) === 0) {
        const e = b.exchNs[i]!;
        if (e < emin[s]!) emin[s] = e;
        if (e > emax[s]!) emax[s] = e;
      }
    }
  });
  const rawCounts = new Float64Array(256);
  let rawMessages = 0;
  ds.forEachRawBatch((b) => {
    rawMessages += b.length;
    segRawRows.set(b.segment, (segRawRows.get(b.segment) ?? 0) + b.length);
    for (let i = 0; i < b.length; i++) rawCounts[b.kind[i]!]!++;
  });

  const allCounts = new Float64Array(256);
  let almin = Infinity;
  let almax = -Infinity;
  let aemin = Infinity;
  let aemax = -Infinity;
  for (let s = 0; s <= nStreams; s++) {
    for (let k = 0; k < 256; k++) allCounts[k]! += counts[s * 256 + k]!;
    almin = Math.min(almin, lmin[s]!);
    almax = Math.max(almax, lmax[s]!);
    aemin = Math.min(aemin, emin[s]!);
    aemax = Math.max(aemax, emax[s]!);
  }
  const streams: StreamSummary[] = ds.streams.map((st, s) => {
    const c = counts.subarray(s * 256, s * 256 + 256);
    return {
      stream: s,
      exchange: st.exchange,
      market: st.market,
      symbol: st.symbol,
      rows: c.reduce((a, v) => a + v, 0),
      counts: countsObject(c),
      time: span(ds, lmin[s]!, lmax[s]!, emin[s]!, emax[s]!),
    };
  });
  const listed = new Set(ds.manifest.segments.map((s) => s.events));
  const segments: SegmentSummary[] = ds.segments.map((seg) => {
    const isListed = listed.has(seg.events);
    return {
      index: seg.index,
      events_file: seg.events,
      raw_file: seg.raw,
      rows: segRows.get(seg.index) ?? 0,
      manifest_rows: isListed ? seg.rows : null,
      raw_rows: segRawRows.get(seg.index) ?? 0,
      events_bytes: fileSize(path.join(dir, seg.events)),
      raw_bytes: seg.raw ? fileSize(path.join(dir, seg.raw)) : 0,
      closed: seg.closed,
      listed_in_manifest: isListed,
    };
  });
  const eventsBytes = segments.reduce((a, s) => a + s.events_bytes, 0);
  const rawBytes = segments.reduce((a, s) => a + s.raw_bytes, 0);
  const manifestBytes = fileSize(path.join(dir, MANIFEST_FILE));
  const totalBytes = eventsBytes + rawBytes + manifestBytes;
  return {
    dir,
    format_version: ds.manifest.version,
    publish_time: ds.hasPublishTs ? 'publish_ts' : 'exch_ts',
    source: ds.manifest.source ?? {},
    exchanges: [...new Set(ds.streams.map((s) => s.exchange))],
    streams,
    time: span(ds, almin, almax, aemin, aemax),
    rows,
    counts: countsObject(allCounts),
    raw_messages: rawMessages,
    raw_counts: Object.fromEntries(
      [...rawCounts.entries()].filter(([, v]) => v > 0).map(([k, v]) => [RAW_KIND_NAMES[k] ?? `kind_${k}`, v]),
    ),
    events_bytes: eventsBytes,
    raw_bytes: rawBytes,
    manifest_bytes: manifestBytes,
    total_bytes: totalBytes,
    bytes_per_event: rows > 0 ? round3(eventsBytes / rows) : null,
    total_bytes_per_event: rows > 0 ? round3(totalBytes / rows) : null,
    segments,
    problems: [...ds.problems],
  };
}

