// Streaming lines out of capture files (gzip or plain), tolerating damage: a truncated or corrupt gzip
// ends the file with a reported problem, after every complete line before the damage was delivered.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { ProblemLog } from '../data/sink.js';

export interface Line {
  text: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
}

/**
 * Yields the file's lines in chunks. A gzip stream that ends early or is corrupt: the complete lines
 * before the damage are yielded, the partial last line is reported, and the generator ends normally.
 */
export async function* readLines(file: string, problems: ProblemLog): AsyncGenerator<Line[]> {
  const name = path.basename(file);
  if (!fs.existsSync(file)) throw new Error(`input file not found: ${file}`);
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const gz = file.endsWith('.gz');
  const stream: NodeJS.ReadableStream = gz ? input.pipe(zlib.createGunzip({ chunkSize: 1 << 20 })) : input;
  let rest = '';
  let lineNo = 0;
  const decoder = new TextDecoder();
  let failed: Error | null = null;
  input.on('error', (e) => {
    failed = e;
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = rest + decoder.decode(chunk, { stream: true });
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      const out: Line[] = new Array(parts.length);
      for (let i = 0; i < parts.length; i++) {
        let t = parts[i]!;
        if (t.endsWith('\r')) t = t.slice(0, -1);
        out[i] = { text: t, line: ++lineNo };
      }
      if (out.length) yield out;
    }
  } catch (e) {
    failed = e as Error;
  }
  if (failed) {
    const what = /unexpected end/i.test((failed as Error).message) ? 'truncated gzip' : 'damaged input';
    problems.add('damaged_file', `${name}:${lineNo + 1}`, `${what}: ${(failed as Error).message}; read ${lineNo} complete line(s) before it`);
    if (rest.length > 0) problems.add('partial_line', `${name}:${lineNo + 1}`, `last line is incomplete (${rest.length} bytes) and was skipped`);
    return;
  }
  rest += decoder.decode();
  if (rest.length > 0) yield [{ text: rest.endsWith('\r') ? rest.slice(0, -1) : rest, line: ++lineNo }];
}
