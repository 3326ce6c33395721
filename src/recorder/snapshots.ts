// REST order book snapshots (Binance) fetched within the exchange's request-weight limit.
//
// Binance counts request weight per IP per calendar minute and reports the total in the response header
// x-mbx-used-weight-1m. The limiter keeps its own count of what it sent this minute, takes the header's
// value when it is larger (other programs on the same IP count too), and waits for the next minute when a
// request would go past `safety` of the limit. 429 (too many requests) and 418 (IP banned after ignoring
// 429s) are honoured: nothing is sent until Retry-After has passed. Other failures (network errors,
// 5xx, bodies that are not snapshots) back off exponentially: 1, 2, 4 ... 30 s.
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';

export class WeightLimiter {
  private minute = -1;
  private used = 0;
  private blockedUntilMs = 0;

  /**
   * @param limit  weight allowed per minute (spot 6000, futures 2400)
   * @param safety fraction of the limit this client lets itself use (others may share the IP)
   * @param nowMs  wall clock in ms (minutes are calendar minutes, as Binance counts them)
   */
  constructor(
    readonly limit: number,
    readonly safety = 0.5,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private roll(now: number): void {
    const m = Math.floor(now / 60_000);
    if (m !== this.minute) {
      this.minute = m;
      this.used = 0;
    }
  }

  /** Weight used in the current minute, as far as this client knows. */
  get usedWeight(): number {
    this.roll(this.nowMs());
    return this.used;
  }

  /** How long (ms) to wait before a request of `weight` may go; 0 = now. Does not reserve. */
  waitMs(weight: number): number {
    const now = this.nowMs();
    if (now < this.blockedUntilMs) return this.blockedUntilMs - now;
    this.roll(now);
    if (this.used + weight <= this.limit * this.safety) return 0;
    // Wait for the next minute (plus a little, the exchange's minute need not match ours to the ms).
    return (this.minute + 1) * 60_000 - now + 250;
  }

  /** Count a request that is being sent. */
  take(weight: number): void {
    this.roll(this.nowMs());
    this.used += weight;
  }

  /** The exchange's own count from x-mbx-used-weight-1m. */
  noteUsed(weight: number): void {
    this.roll(this.nowMs());
    if (weight > this.used) this.used = weight;
  }

  /** Send nothing for `ms` (Retry-After of a 429/418). */
  block(ms: number): void {
    this.blockedUntilMs = Math.max(this.blockedUntilMs, this.nowMs() + ms);
  }
}

export interface RestResponse {
  /** Receive time of the complete body (recorder clock). */
  ts: bigint;
  status: number;
  text: string;
  url: string;
}

export interface FetcherEvents {
  /** A response that will be retried (429/418/5xx or network error); for counters and logs. */
  onRetry?(url: string, why: string, delayMs: number): void;
  /** A 429 or 418 was received. */
  onRateLimited?(url: string, status: number, retryAfterMs: number): void;
}

export interface SnapshotFetcherOptions {
  clock: Clock;
  limiter: WeightLimiter;
  backoff?: BackoffOptions;
  /** Retry-After when a 429 has none (ms). Default 60 000. A 418 without one waits 2 min. */
  defaultRetryAfterMs?: number;
  fetch?: typeof fetch;
  events?: FetcherEvents;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
}

export class RestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Fetches one REST resource at a time, within the weight limit, retrying until it succeeds or is aborted. */
export class SnapshotFetcher {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fetchFn: typeof fetch;
  private readonly defaultRetryAfterMs: number;
  private readonly timeoutMs: number;
  readonly stats = { requests: 0, ok: 0, rateLimited: 0, retries: 0, failed: 0 };

  constructor(private readonly o: SnapshotFetcherOptions) {
    this.fetchFn = o.fetch ?? fetch;
    this.defaultRetryAfterMs = o.defaultRetryAfterMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /**
   * GET `url` (weight `weight`) until a 2xx arrives; `validate` may reject a body (then it is retried too).
   * Requests are serialized: one in flight at a time. Client errors other than 429/418 are not retried.
   */
  get(url: string, weight: number, signal: AbortSignal, validate?: (text: string) => string | null): Promise<RestResponse> {
    const run = () => this.attempt(url, weight, signal, validate);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async attempt(url: string, weight: number, signal: AbortSignal, validate?: (text: string) => string | null): Promise<RestResponse> {
    const backoff = new Backoff(this.o.backoff);
    const lim = this.o.limiter;
    for (;;) {
      if (signal.aborted) throw new RestError('aborted', 0);
      const wait = lim.waitMs(weight);
      if (wait > 0) {
        await sleep(wait, signal);
        continue;
      }
      lim.take(weight);
      this.stats.requests++;
      let why: string;
      let delay: number;
      try {
        const ctl = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
        const res = await this.fetchFn(url, { signal: ctl, headers: { accept: 'application/json' } });
        const text = await res.text();
        const ts = this.o.clock.now();
        const used = Number(res.headers.get('x-mbx-used-weight-1m'));
        if (Number.isFinite(used) && used > 0) lim.noteUsed(used);
        if (res.status === 429 || res.status === 418) {
          const ra = retryAfterMs(res.headers.get('retry-after'));
          const ms = ra ?? (res.status === 418 ? 120_000 : this.defaultRetryAfterMs);
          lim.block(ms);
          this.stats.rateLimited++;
          this.o.events?.onRateLimited?.(url, res.status, ms);
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          const bad = validate ? validate(text) : null;
          if (bad === null) {
            this.stats.ok++;
            return { ts, status: res.status, text, url };
          }
          why = bad;
        } else if (res.status >= 400 && res.status < 500) {
          this.stats.failed++;
          throw new RestError(`HTTP ${res.status} from ${url}: ${text.slice(0, 200)}`, res.status);
        } else {
          why = `HTTP ${res.status}`;
        }
      } catch (e) {
        if (e instanceof RestError) throw e;
        if (signal.aborted) throw new RestError('aborted', 0);
        why = (e as Error).message;
      }
      delay = backoff.next();
      this.stats.retries++;
      this.o.events?.onRetry?.(url, why, delay);
      await sleep(delay, signal);
    }
  }
}

/** Retry-After in seconds (or an HTTP date) to ms; null if absent or unreadable. */
export function retryAfterMs(v: string | null): number | null {
  if (v === null || v.trim() === '') return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(v);
  return Number.isNaN(d) ? null : Math.max(0, d - Date.now());
}
