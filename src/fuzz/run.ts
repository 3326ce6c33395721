// npm run fuzz [-- --seed N --cases N]: every fuzz suite with one seed; prints each report and exits 1 on any
// crash, slow case or invalid value. The default case count runs 1,000,000 mutated frames through the
// normalizers (and as many through any other suite present, such as the simulator's client messages).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzReport } from './report.js';
import { run as fuzzNormalizers } from './normalizers.js';

type Suite = (seed: number, cases: number) => Promise<FuzzReport>;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(args[i + 1])}`);
  return v;
}

/** Suites other engineers add next to this file (fuzz/simulator-messages.ts) are run when they are there. */
async function optionalSuite(file: string): Promise<Suite | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (!fs.existsSync(path.join(here, `${file}.js`))) return null;
  const specifier = `./${file}.js`;
  const mod = (await import(specifier)) as { run?: Suite };
  return mod.run ?? null;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const seed = option(args, '--seed', 1);
  const cases = option(args, '--cases', 1_000_000);
  const suites: Suite[] = [fuzzNormalizers];
  const sim = await optionalSuite('simulator-messages');
  if (sim) suites.push(sim);
  let failed = false;
  for (const suite of suites) {
    const started = performance.now();
    const r = await suite(seed, cases);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${r.name}: ${r.cases.toLocaleString('en-US')} cases (seed ${seed}) in ${seconds.toFixed(1)} s: ${r.crashes} crashes, ${r.slowCases} slow (> 100 ms), ${r.invalidValues} invalid values, slowest ${r.maxMs} ms`);
    for (const e of r.examples) console.log(`  ${e}`);
    if (r.crashes > 0 || r.slowCases > 0 || r.invalidValues > 0) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
