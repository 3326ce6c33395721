// manifest.json: the dataset's table of contents. Nanosecond times are decimal strings (they exceed 2^53).
import fs from 'node:fs';
import path from 'node:path';
import type { StreamInfo } from './types.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'latencylab-dataset';

export interface SegmentInfo {
  index: number;
  /** File names relative to the dataset folder. */
  events: string;
  raw: string;
  rows: number;
  rawRows: number;
  /** Inclusive ranges over the segment's rows, ns since epoch as decimal strings; null for an empty segment. */
  localTsMin: string | null;
  localTsMax: string | null;
  exchTsMin: string | null;
  exchTsMax: string | null;
  /** Rows per event kind name. */
  counts: Record<string, number>;
  bytes: number;
  rawBytes: number;
  /** False while the writer still appends to it (or if it crashed before closing it). */
  closed: boolean;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  streams: StreamInfo[];
  segments: SegmentInfo[];
  /** Where the data came from: importer and files, or recorder settings. */
  source: Record<string, unknown>;
}

/** A segment's entry before any row is counted. */
export function emptySegmentInfo(index: number, events: string, raw: string, closed: boolean): SegmentInfo {
  return {
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
    bytes: 0,
    rawBytes: 0,
    closed,
  };
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(dir)) throw new Error(`dataset not found: ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`not a dataset folder: ${dir} is a file (a dataset is a folder holding ${MANIFEST_FILE} and its segments)`);
  if (!fs.existsSync(file)) throw new Error(`not a dataset folder: ${dir} holds no ${MANIFEST_FILE}`);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new Error(`${file}: field "format" is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (!Array.isArray(m.streams)) throw new Error(`${file}: field "streams" must be an array`);
  if (!Array.isArray(m.segments)) throw new Error(`${file}: field "segments" must be an array`);
  return m;
}

/** The two calls writeManifest makes (the writer passes its own, which tests make fail). */
export interface ManifestFiles {
  writeFileSync(file: string, text: string): void;
  renameSync(from: string, to: string): void;
}

/** Write atomically, so a crash (or a full disk) leaves the old manifest or the new one, never half of one. */
export function writeManifest(dir: string, m: Manifest, files: ManifestFiles = fs): void {
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp`;
  files.writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  files.renameSync(tmp, file);
}
