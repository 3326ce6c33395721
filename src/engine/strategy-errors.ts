// Errors raised by a strategy's own code, said with where they happened: the strategy's name and file, the
// callback, the simulated time, and the strategy's own stack frame. A bare "Cannot read properties of
// undefined" from deep in a replay tells a user nothing.
//
// The guard wraps the strategy object once per run (one closure per callback it has, made up front), so the
// timelines call it like any strategy and nothing is allocated per event; the try/catch costs nothing until
// something throws.
import { fileURLToPath } from 'node:url';
import { formatTimeNs } from '../data/time.js';
import type { Strategy } from '../strategy/api.js';

/** Where a strategy comes from, and the run's time origin (the strategy's clock counts ns from it). */
export interface StrategyOrigin {
  name: string;
  file: string;
  originNs: bigint;
}

/** A strategy's callback threw. `cause` is what it threw. */
export class StrategyError extends Error {
  constructor(
    message: string,
    readonly callback: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'StrategyError';
  }
}

/** The first frame of `stack` inside `file`, as "file:line:column" (file URLs turned into paths). */
export function frameIn(stack: string | undefined, file: string): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n')) {
    const m = /(?:\(|\s)((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    let where = m[1]!;
    if (where.startsWith('file://')) {
      try {
        where = fileURLToPath(where);
      } catch {
        continue;
      }
    }
    if (where === file) return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** "TypeError: message" (the plain "Error: " left out), or the thrown value when it is not an Error. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  return `threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`;
}

/** The error for `thrown` out of `callback`; `nowNs` is the strategy's clock (NaN outside the replay). */
export function strategyFailure(thrown: unknown, callback: string, origin: StrategyOrigin, nowNs: number): StrategyError {
  if (thrown instanceof StrategyError) return thrown;
  const when =
    nowNs === nowNs
      ? (() => {
          const abs = origin.originNs + BigInt(Math.round(nowNs));
          return ` at simulated time ${formatTimeNs(abs)} (${abs} ns)`;
        })()
      : '';
  const frame = frameIn(thrown instanceof Error ? thrown.stack : undefined, origin.file);
  const message = `strategy "${origin.name}" (${origin.file}) failed in ${callback}${when}: ${describeThrown(thrown)}${frame ? `\n    at ${frame}` : ''}`;
  return new StrategyError(message, callback, { cause: thrown });
}

/** The strategy's callbacks: its function-valued properties named on..., own or inherited (class strategies). */
function callbackNames(strategy: Strategy): string[] {
  const names = new Set<string>();
  for (let o: object | null = strategy; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (/^on[A-Z]/.test(k) && typeof (strategy as Record<string, unknown>)[k] === 'function') names.add(k);
    }
  }
  return [...names];
}

/**
 * The strategy behind a guard: the same callbacks (and only those, so the engine's `if (strategy.onTrade)`
 * still skips what it lacks), each rethrowing what it throws as a StrategyError. The time comes from the
 * context every callback receives first.
 */
export function guardStrategy(strategy: Strategy, origin: StrategyOrigin): Strategy {
  const guarded: Record<string, unknown> = {};
  for (const name of callbackNames(strategy)) {
    const fn = (strategy as Record<string, (a: unknown, b: unknown, c: unknown) => unknown>)[name]!;
    guarded[name] = (a: unknown, b: unknown, c: unknown): unknown => {
      try {
        return fn.call(strategy, a, b, c);
      } catch (e) {
        const now = (a as { now?: () => number } | undefined)?.now;
        throw strategyFailure(e, name, origin, typeof now === 'function' ? now() : NaN);
      }
    };
  }
  return guarded as Strategy;
}
