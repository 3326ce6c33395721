// The import structure of src/: no cycle between files, no cycle between top-level folders, and the lower
// layers (data, book, simulation) never import the exchange adapters, the recorder, the exchange simulator,
// the replay engine or the CLI. The import graph is read from the sources (relative specifiers of static
// imports and re-exports, side-effect imports and dynamic import()), so a new folder or file is covered
// without editing this test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** File (relative to the root, '/'-separated) → the files it imports (same form). */
type ImportGraph = Map<string, string[]>;

/** Relative specifiers imported by one source text. */
function importSpecifiers(text: string): string[] {
  // Block comments and whole-line comments may mention "import ... from '...'" in prose.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, // import x from '...', export { y } from '...', multi-line lists
    /^\s*import\s*['"]([^'"]+)['"]/gm, // import '...' (side effects)
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('...')
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found.filter((s) => s.startsWith('.'));
}

function listTsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'dist', '.git'].includes(e.name)) out.push(...listTsFiles(p));
    }
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The import graph of every .ts file under `root`; `unresolved` lists imports naming no file there. */
function readImportGraph(root: string): { graph: ImportGraph; unresolved: string[] } {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  for (const file of listTsFiles(root)) {
    const targets = new Set<string>();
    for (const spec of importSpecifiers(fs.readFileSync(file, 'utf8'))) {
      const abs = path.resolve(path.dirname(file), spec);
      if (!abs.startsWith(root + path.sep)) continue; // outside the tree (e.g. package.json)
      const candidates = spec.endsWith('.js') ? [abs.slice(0, -3) + '.ts'] : [abs, abs + '.ts', path.join(abs, 'index.ts')];
      const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (hit) targets.add(rel(hit));
      else if (!spec.endsWith('.json')) unresolved.push(`${rel(file)}: '${spec}'`);
    }
    graph.set(rel(file), [...targets].sort());
  }
  return { graph, unresolved };
}

/** Strongly connected components with more than one node, or one node importing itself (Tarjan). */
function cyclicComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Shortest path from `from` back to itself inside `members` (breadth first), as node names. */
function shortestCycleThrough(graph: ImportGraph, from: string, members: Set<string>): string[] {
  const parent = new Map<string, string>();
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === from) {
        const pathBack = [v];
        while (pathBack[0] !== from) pathBack.unshift(parent.get(pathBack[0]!)!);
        return [...pathBack, from];
      }
      if (!parent.has(w) && w !== from) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [];
}

/**
 * Every import cycle, as "a → b → a" texts: for each cyclic component, the shortest cycle through each of its
 * nodes (deduplicated), so that each pair of files or folders importing each other is named.
 */
function findCycles(graph: ImportGraph): string[] {
  const texts = new Set<string>();
  for (const comp of cyclicComponents(graph)) {
    const members = new Set(comp);
    for (const v of comp) {
      const cycle = shortestCycleThrough(graph, v, members).slice(0, -1);
      // Rotate so that the cycle starts at its smallest name: the same cycle found from two nodes reads the same.
      const start = cycle.indexOf([...cycle].sort()[0]!);
      const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
      texts.add([...rotated, rotated[0]].join(' → '));
    }
  }
  return [...texts].sort();
}

/** Top-level folder of a file under src/ (a file directly in src/ is its own unit). */
function topFolder(file: string): string {
  return file.split('/')[0]!;
}

/** The graph between top-level folders (an import inside one folder is no edge). */
function folderGraph(graph: ImportGraph): ImportGraph {
  const out: ImportGraph = new Map();
  for (const [file, targets] of graph) {
    const from = topFolder(file);
    const set = new Set(out.get(from) ?? []);
    for (const t of targets) if (topFolder(t) !== from) set.add(topFolder(t));
    out.set(from, [...set].sort());
  }
  return out;
}

const LOWER_LAYERS = ['data', 'book', 'simulation'];
const UPPER_LAYERS = ['exchanges', 'recorder', 'exchange-sim', 'engine', 'cli'];

/** Imports from a lower layer into an upper one, as "src/a/x.ts → src/b/y.ts". */
function layeringViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    if (!LOWER_LAYERS.includes(topFolder(file))) continue;
    for (const t of targets) if (UPPER_LAYERS.includes(topFolder(t))) out.push(`src/${file} → src/${t}`);
  }
  return out.sort();
}

describe('the cycle detector', () => {
  it('finds a cycle in a hand-made graph, names it, and finds none in an acyclic one', () => {
    const cyclic: ImportGraph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(findCycles(cyclic)).toEqual(['a.ts → b.ts → c.ts → a.ts', 'e.ts → e.ts']);
    const acyclic: ImportGraph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', []],
    ]);
    expect(findCycles(acyclic)).toEqual([]);
  });

  it('names both cycles of a component with two loops through one node', () => {
    const graph: ImportGraph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['a.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual(['a.ts → b.ts → a.ts', 'a.ts → c.ts → a.ts']);
  });

  it('folds files into folders and flags a lower layer importing an upper one', () => {
    const graph: ImportGraph = new Map([
      ['data/reader.ts', ['data/types.ts']],
      ['data/types.ts', []],
      ['book/book.ts', ['data/types.ts', 'engine/replay.ts']],
      ['engine/replay.ts', ['book/book.ts', 'data/reader.ts']],
    ]);
    expect(findCycles(folderGraph(graph))).toEqual(['book → engine → book']);
    expect(layeringViolations(graph)).toEqual(['src/book/book.ts → src/engine/replay.ts']);
  });

  describe('on files in a temporary folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-arch-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    };
    write('a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
    write('b.ts', "import type { a } from './a.js';\nexport const b = 1;\nexport type A = typeof a;\n");
    // A re-export spread over lines, and a dynamic import back.
    write('x/c.ts', "export {\n  d,\n} from '../y/d.js';\n");
    write('y/d.ts', "export const d = 1;\nexport const later = () => import('../x/c.js');\n");
    // Prose in comments is not an import.
    write('z/e.ts', "// import { a } from '../a.js'\n/* export { b } from '../b.js' */\nimport './f.js';\n");
    write('z/f.ts', 'export {};\n');

    it('reads the imports and finds the two-file cycles', () => {
      const { graph, unresolved } = readImportGraph(dir);
      expect(unresolved).toEqual([]);
      expect(graph.get('z/e.ts')).toEqual(['z/f.ts']);
      expect(findCycles(graph)).toEqual(['a.ts → b.ts → a.ts', 'x/c.ts → y/d.ts → x/c.ts']);
      // A file directly in the root is its own unit, like a folder.
      expect(findCycles(folderGraph(graph))).toEqual(['a.ts → b.ts → a.ts', 'x → y → x']);
    });

    it('names an import of a missing file', () => {
      write('g.ts', "import { nothing } from './missing.js';\n");
      expect(readImportGraph(dir).unresolved).toEqual(["g.ts: './missing.js'"]);
      fs.rmSync(path.join(dir, 'g.ts'));
    });
  });
});

describe('src/ import structure', () => {
  const { graph, unresolved } = readImportGraph(SRC);

  it('reads a plausible graph: every relative import resolves to a file', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('cli/dataset-commands.ts')).toContain('inspection/inspect.ts');
    expect(unresolved).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('has no import cycle between top-level folders of src/', () => {
    expect(findCycles(folderGraph(graph))).toEqual([]);
  });

  it('keeps data, book and simulation below exchanges, recorder, exchange-sim, engine and cli', () => {
    expect(layeringViolations(graph)).toEqual([]);
  });
});

describe('strategies see the Strategy API only', () => {
  const root = path.resolve(import.meta.dirname, '..');
  const { graph } = readImportGraph(root);

  it('every built-in strategy imports src/strategy/api.ts and nothing else of the project', () => {
    const strategies = [...graph.keys()].filter((f) => f.startsWith('strategies/'));
    expect(strategies.length).toBeGreaterThanOrEqual(3);
    for (const f of strategies) expect({ file: f, imports: graph.get(f) }).toEqual({ file: f, imports: ['src/strategy/api.ts'] });
  });

  it('the Strategy API itself imports nothing of the project', () => {
    expect(graph.get('src/strategy/api.ts')).toEqual([]);
  });
});
