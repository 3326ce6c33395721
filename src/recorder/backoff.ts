// Exponential backoff: base, 2·base, 4·base ... capped; reset by the caller once things are healthy again.

export interface BackoffOptions {
  /** First delay (ms). Default 1000. */
  baseMs?: number;
  /** Largest delay (ms). Default 30000. */
  maxMs?: number;
}

export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Delays handed out since the last reset. */
  attempts = 0;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) throw new Error(`backoff needs 0 < base <= max, got ${this.baseMs}, ${this.maxMs}`);
  }

  /** The delay before the next attempt: base · 2^attempts, at most maxMs. */
  next(): number {
    const d = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return d;
  }

  reset(): void {
    this.attempts = 0;
  }
}

/** A promise resolved after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
