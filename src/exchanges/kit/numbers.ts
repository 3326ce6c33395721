// The one parser of exchange numbers and times. It accepts exactly what the exchanges send (decimal strings
// such as "61800.20", whole numbers for ids and times) and rejects everything else with the field named:
// hex, binary, exponents, signs, spaces, empty strings, NaN/Infinity, numbers where a string is sent, and
// values the dataset cannot hold (int64 ns times, fixed-point prices of the order book).
import { shown } from './json.js';

/** A value an exchange sent is not what its protocol allows; the message names the field. */
export class InvalidField extends Error {}

/** Plain decimal text: digits, optionally a point and more digits. No sign, exponent, space or radix prefix. */
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * The order book keys a price by round(price × 10^d), an exact integer in a double (at most 2^52) with at most
 * 12 decimals (src/book/order-book.ts). A price is accepted when it has at most 12 decimals and at most 15
 * significant digits in all, so any such price fits the book's key whatever other prices the book holds.
 */
export const PRICE_MAX_DECIMALS = 12;
export const PRICE_MAX_DIGITS = 15;
/** Sizes are doubles, not keys: more decimals are allowed, but the value must stay a plain finite number. */
export const SIZE_MAX_DECIMALS = 18;
export const SIZE_MAX_INTEGER_DIGITS = 15;

/** Exchange times are accepted from 1970 up to 2100-01-01: anything later is a corrupt field, not a time. */
export const MAX_TIME_MS = 4_102_444_800_000;
export const MAX_TIME_NS = BigInt(MAX_TIME_MS) * 1_000_000n;

/** The digits of a decimal string, after dropping leading zeros of the integer part and trailing ones of the fraction. */
function digitsOf(text: string, field: string, what: string): { intDigits: number; decimals: number } {
  const m = DECIMAL.exec(text);
  if (!m) throw new InvalidField(`field "${field}" must be a ${what} decimal string, got ${shown(text)}`);
  const intPart = m[1]!.replace(/^0+/, '');
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return { intDigits: intPart.length, decimals: frac.length };
}

/** A price as a non-negative decimal string the dataset's prices can hold exactly. */
export function priceText(v: unknown, field: string): number {
  if (typeof v !== 'string') throw new InvalidField(`field "${field}" must be a non-negative decimal string, got ${shown(v)}`);
  const { intDigits, decimals } = digitsOf(v, field, 'non-negative');
  if (decimals > PRICE_MAX_DECIMALS || intDigits + decimals > PRICE_MAX_DIGITS) {
    throw new InvalidField(
      `field "${field}" has more digits than a dataset price holds (at most ${PRICE_MAX_DECIMALS} decimals and ${PRICE_MAX_DIGITS} digits), got ${shown(v)}`,
    );
  }
  return Number(v);
}

/** A size (quantity) as a non-negative decimal string. */
export function sizeText(v: unknown, field: string): number {
  if (typeof v !== 'string') throw new InvalidField(`field "${field}" must be a non-negative decimal string, got ${shown(v)}`);
  const { intDigits, decimals } = digitsOf(v, field, 'non-negative');
  if (decimals > SIZE_MAX_DECIMALS || intDigits > SIZE_MAX_INTEGER_DIGITS) {
    throw new InvalidField(
      `field "${field}" is out of range for a size (at most ${SIZE_MAX_INTEGER_DIGITS} integer digits and ${SIZE_MAX_DECIMALS} decimals), got ${shown(v)}`,
    );
  }
  return Number(v);
}

/** A whole JSON number from `min` up to 2^53 - 1 (ids, sequence numbers): no strings, fractions or floats beyond. */
export function wholeNumber(v: unknown, field: string, min = 0): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) return v;
  const range = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  throw new InvalidField(`field "${field}" must be ${range}, got ${shown(v)}`);
}

/** Milliseconds since 1970 as a JSON number (Binance, Bybit), in ns. */
export function millisNumber(v: unknown, field: string): bigint {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_TIME_MS) {
    throw new InvalidField(`field "${field}" must be milliseconds since 1970 (a whole number up to ${MAX_TIME_MS}, year 2100), got ${shown(v)}`);
  }
  return BigInt(v) * 1_000_000n;
}

/** Milliseconds since 1970 as a string of digits (OKX), in ns. */
export function millisString(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,13}$/.test(v) || Number(v) > MAX_TIME_MS) {
    throw new InvalidField(`field "${field}" must be a string of milliseconds since 1970 (up to ${MAX_TIME_MS}, year 2100), got ${shown(v)}`);
  }
  return BigInt(v) * 1_000_000n;
}

/** A time in ns (parsed from an ISO string, say) checked to lie between 1970 and 2100. */
export function nsInRange(ns: bigint, field: string, text: unknown): bigint {
  if (ns < 0n || ns > MAX_TIME_NS) throw new InvalidField(`field "${field}" must be a time between 1970 and 2100, got ${shown(text)}`);
  return ns;
}
