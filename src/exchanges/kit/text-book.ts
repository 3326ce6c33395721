// A price-level book that keeps each level exactly as the exchange wrote it (the whole level array:
// ["65140.4","0.885797"] for Bybit, ["8476.98","415","0","13"] for OKX), so snapshots the simulator
// builds use the exchange's own strings: a client keying levels by string, or checksumming them (OKX),
// sees the same text the recorded updates carry.

export type TextLevel = readonly string[];

export class TextBookSide {
  private readonly levels = new Map<number, TextLevel>();
  private sorted: TextLevel[] | null = [];

  /** +1 bids (best = highest), -1 asks (best = lowest). */
  constructor(readonly dir: 1 | -1) {}

  get count(): number {
    return this.levels.size;
  }

  /** Set a level from its recorded array; size 0 deletes it. Returns false if the level is not readable. */
  set(level: unknown): boolean {
    if (!Array.isArray(level) || level.length < 2 || typeof level[0] !== 'string' || typeof level[1] !== 'string') return false;
    const price = Number(level[0]);
    const size = Number(level[1]);
    if (!Number.isFinite(price) || !Number.isFinite(size)) return false;
    if (size === 0) this.levels.delete(price);
    else this.levels.set(price, level as TextLevel);
    this.sorted = null;
    return true;
  }

  clear(): void {
    this.levels.clear();
    this.sorted = [];
  }

  /** The best `n` levels, best first. */
  top(n = Infinity): TextLevel[] {
    if (this.sorted === null) {
      const keys = [...this.levels.keys()].sort((a, b) => (this.dir === 1 ? b - a : a - b));
      this.sorted = keys.map((k) => this.levels.get(k)!);
    }
    return n >= this.sorted.length ? this.sorted.slice() : this.sorted.slice(0, n);
  }
}

export class TextBook {
  readonly bids = new TextBookSide(1);
  readonly asks = new TextBookSide(-1);
  /** A snapshot has been applied since the book was created or cleared. */
  known = false;

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.known = false;
  }
}

/** Levels as JSON text: [["p","s"],...] keeping each level's recorded strings. */
export function levelsJson(levels: readonly TextLevel[]): string {
  return JSON.stringify(levels);
}
