// Bundled segments are committed gzipped and unpacked beside themselves on first read; a newer .gz (a pull
// that brought a new bundled dataset) replaces a stale unpacked copy.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ensureUnpacked } from '../src/data/segments.js';
import { tempDir } from './helpers.js';

describe('ensureUnpacked', () => {
  const setTimes = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);

  it('unpacks a .gz on first use, and says false when neither file exists', () => {
    const dir = tempDir();
    const file = path.join(dir, 'events-000001.arrow');
    expect(ensureUnpacked(file)).toBe(false);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(Buffer.from('first')));
    expect(ensureUnpacked(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('first');
  });

  it('unpacks again when the .gz is newer than the unpacked copy, and keeps a copy newer than its .gz', () => {
    const dir = tempDir();
    const file = path.join(dir, 'events-000001.arrow');
    fs.writeFileSync(file, 'stale');
    setTimes(file, 1_000_000);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(Buffer.from('fresh')));
    setTimes(`${file}.gz`, 2_000_000);
    expect(ensureUnpacked(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('fresh');
    // Now the unpacked copy is the newer one: it is used as it is.
    fs.writeFileSync(file, 'kept');
    setTimes(file, 3_000_000);
    expect(ensureUnpacked(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('kept');
  });
});
