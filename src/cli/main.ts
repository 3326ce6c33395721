#!/usr/bin/env node
// latencylab: the command-line entry point.
import { Command, CommanderError } from 'commander';
import { registerImportCommand } from './import-command.js';
import { registerDatasetCommands } from './dataset-commands.js';
import { registerReplayCommand } from './replay-command.js';
import { registerSweepCommand } from './sweep-command.js';
import { registerExchangeSimCommand } from './exchange-sim-command.js';
import { registerRecordCommand } from './record-command.js';
import { registerAuditCommand } from './audit-command.js';
import { UsageError } from '../engine/session.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('latencylab')
    .description('Record exchange market data to Arrow and replay it to measure what latency costs a strategy')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerImportCommand(program);
  registerDatasetCommands(program);
  registerReplayCommand(program);
  registerSweepCommand(program);
  registerAuditCommand(program);
  registerExchangeSimCommand(program);
  registerRecordCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    process.stderr.write(`latencylab: ${e instanceof Error ? e.message : String(e)}\n`);
    // A wrong option exits 2; a run that failed, 1.
    return e instanceof UsageError ? 2 : 1;
  }
}
