// Small pieces every exchange's message parsing shares.
import type { InputPlace, ProblemLog } from '../../data/sink.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_I64 = 0x7fffffffffffffffn;

/** A trade id that is a whole number fitting int64, else null (Bybit's UUIDs). */
export function numericTradeId(id: string): bigint | null {
  if (!/^\d{1,19}$/.test(id)) return null;
  const n = BigInt(id);
  return n <= MAX_I64 ? n : null;
}

/** A frame as text or already parsed, as a JSON object; null (after logging why) if it is not one. */
export function frameObject(frame: unknown, place: InputPlace, problems: ProblemLog): Json | null {
  let msg = frame;
  if (typeof frame === 'string') {
    try {
      msg = JSON.parse(frame);
    } catch (e) {
      problems.add('bad_json', place, `frame is not valid JSON (${(e as Error).message})`);
      return null;
    }
  }
  if (!isObject(msg)) {
    problems.add('bad_message', place, 'frame is not a JSON object');
    return null;
  }
  return msg;
}

/** The most a value shows of itself in an error message: string characters, items per level, levels. */
const SHOWN_CHARS = 40;
const SHOWN_ITEMS = 4;
const SHOWN_DEPTH = 2;

/**
 * A received value as error messages quote it: JSON-like, but cut short (long strings, many items) and only
 * two levels deep, so a huge or deeply nested value neither floods a log nor overflows the stack.
 */
export function shown(v: unknown, depth = 0): string {
  if (typeof v === 'string') return JSON.stringify(v.length > SHOWN_CHARS ? `${v.slice(0, SHOWN_CHARS)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  const isArray = Array.isArray(v);
  if (depth >= SHOWN_DEPTH) return isArray ? '[…]' : '{…}';
  const keys = isArray ? [] : Object.keys(v);
  const count = isArray ? v.length : keys.length;
  const items: string[] = [];
  for (let i = 0; i < Math.min(count, SHOWN_ITEMS); i++) {
    items.push(isArray ? shown(v[i], depth + 1) : `${JSON.stringify(keys[i]!.slice(0, SHOWN_CHARS))}:${shown((v as Json)[keys[i]!], depth + 1)}`);
  }
  if (count > SHOWN_ITEMS) items.push('…');
  return isArray ? `[${items.join(',')}]` : `{${items.join(',')}}`;
}
