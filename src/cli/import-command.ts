// latencylab import <format> <files...> --out <dir>
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DatasetWriter } from '../data/writer.js';
import { ProblemLog } from '../data/sink.js';
import { EXCHANGE_IDS, isKnownExchange } from '../exchanges/registry.js';
import { IMPORTERS } from '../importers/index.js';
import type { ImporterStats } from '../importers/importer.js';
import type { Manifest } from '../data/manifest.js';

export interface ImportSummary {
  format: string;
  out: string;
  files: string[];
  lines: number;
  messages: number;
  rows: number;
  raw_messages: number;
  streams: { exchange: string; market: string; symbol: string }[];
  gaps: Record<string, number>;
  /** Present when the exchange sends book checksums (OKX). */
  checksums?: { verified: number; failed: number; skipped: number };
  /** Frames refused because a field is not what the exchange sends: kept raw, no events. */
  invalid_frames: number;
  /** Lines an error stopped (reported with file:line among the problems); the import went on. */
  failed_lines: number;
  problems: { total: number; by_kind: Record<string, number>; first: { place: string; message: string }[] };
  bytes: number;
  seconds: number;
  messages_per_second: number;
}

export async function runImport(
  format: string,
  files: string[],
  out: string,
  opts: { exchange?: string; append?: boolean; segmentRows?: number } = {},
): Promise<{ summary: ImportSummary; manifest: Manifest; stats: ImporterStats }> {
  const entry = IMPORTERS[format];
  if (!entry) throw new Error(`unknown import format "${format}" (known: ${Object.keys(IMPORTERS).join(', ')})`);
  if (files.length === 0) throw new Error('no input files given');
  for (const f of files) if (!fs.existsSync(f)) throw new Error(`input file not found: ${f}`);
  if (opts.exchange !== undefined && !isKnownExchange(opts.exchange)) {
    throw new Error(`unknown exchange "${opts.exchange}" (known: ${EXCHANGE_IDS.join(', ')})`);
  }
  const problems = new ProblemLog();
  const started = performance.now();
  // A fresh import that fails leaves nothing behind, so the same command can be run again.
  const fresh = !opts.append && (!fs.existsSync(out) || fs.readdirSync(out).length === 0);
  const writer = new DatasetWriter(out, {
    append: opts.append,
    segmentRows: opts.segmentRows,
    source: { importer: format, files: files.map((f) => path.basename(f)) },
  });
  let stats: ImporterStats;
  try {
    stats = await (await entry.load())(files, writer, problems, { exchange: opts.exchange as never });
  } catch (e) {
    try {
      writer.close();
    } catch {
      // the import's own error is the one to report
    }
    const why = e instanceof Error ? e.message : String(e);
    if (fresh) {
      fs.rmSync(out, { recursive: true, force: true });
      throw new Error(`${why}\nthe import failed; nothing was kept in ${out}, so the same command can be run again`);
    }
    // Appending: what was imported before the failure stays readable, after the dataset's earlier data.
    throw new Error(`${why}\nthe import failed; the rows imported before the failure were appended to ${out} and stay readable`);
  }
  const manifest = writer.close();
  const seconds = (performance.now() - started) / 1000;
  const rows = manifest.segments.reduce((a, s) => a + s.rows, 0);
  const rawRows = manifest.segments.reduce((a, s) => a + s.rawRows, 0);
  const bytes = manifest.segments.reduce((a, s) => a + s.bytes + s.rawBytes, 0);
  const summary: ImportSummary = {
    format,
    out,
    files: files.map((f) => path.basename(f)),
    lines: stats.lines,
    messages: stats.messages,
    rows,
    raw_messages: rawRows,
    streams: manifest.streams.map((s) => ({ ...s })),
    gaps: stats.gaps,
    ...(stats.checksums ? { checksums: stats.checksums } : {}),
    invalid_frames: stats.invalidFrames,
    failed_lines: stats.failedLines,
    problems: { total: problems.total, by_kind: problems.counts, first: problems.items.slice(0, 50) },
    bytes,
    seconds: +seconds.toFixed(3),
    messages_per_second: Math.round(stats.messages / Math.max(seconds, 1e-9)),
  };
  return { summary, manifest, stats };
}

/** The summary as `latencylab import` prints it. */
export function importSummaryText(summary: ImportSummary): string {
  const lines = [
    `imported ${summary.files.length} file(s) into ${summary.out}`,
    `  lines ${summary.lines}, messages ${summary.messages}, events ${summary.rows}, raw messages ${summary.raw_messages}`,
    `  streams: ${summary.streams.map((s) => `${s.exchange} ${s.symbol}`).join(', ')}`,
    `  gaps: ${Object.keys(summary.gaps).length ? Object.entries(summary.gaps).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
    summary.checksums
      ? `  book checksums: ${summary.checksums.verified} verified, ${summary.checksums.failed} failed, ${summary.checksums.skipped} absent`
      : '  book checksums: no checksums (exchange sends none)',
    ...(summary.invalid_frames > 0 ? [`  invalid frames: ${summary.invalid_frames} (kept raw, no events written; see problems)`] : []),
    ...(summary.failed_lines > 0 ? [`  failed lines: ${summary.failed_lines} (the import went on; see problems)`] : []),
    `  ${summary.messages_per_second.toLocaleString('en-US')} messages/s, ${(summary.bytes / 1e6).toFixed(1)} MB written in ${summary.seconds}s`,
  ];
  if (summary.problems.total > 0) {
    lines.push(`  ${summary.problems.total} problem(s): ${Object.entries(summary.problems.by_kind).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const p of summary.problems.first.slice(0, 20)) lines.push(`    ${p.place}: ${p.message}`);
  }
  return lines.join('\n') + '\n';
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'convert exchange captures into a dataset. Formats:\n' +
        Object.entries(IMPORTERS)
          .map(([k, v]) => `  ${k}: ${v.description}`)
          .join('\n'),
    )
    .argument('<format>', `input format: ${Object.keys(IMPORTERS).join(' | ')}`)
    .argument('<files...>', 'capture files (.gz or plain); files of one market join into one timeline')
    .requiredOption('--out <dir>', 'dataset folder to create')
    .option('--exchange <id>', `force the exchange id (${EXCHANGE_IDS.join(', ')})`)
    .option('--append', 'append to an existing dataset in --out')
    .option('--segment-rows <n>', 'start a new segment file after this many events', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1000) throw new Error(`--segment-rows must be a whole number >= 1000, got "${v}"`);
      return n;
    })
    .option('--json', 'print the summary as JSON')
    .action(async (format: string, files: string[], o: { out: string; exchange?: string; append?: boolean; json?: boolean; segmentRows?: number }) => {
      const { summary } = await runImport(format, files, o.out, o);
      if (o.json) {
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        return;
      }
      process.stdout.write(importSummaryText(summary));
    });
}
