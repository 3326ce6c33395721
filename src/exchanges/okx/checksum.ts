// OKX order book checksum: CRC32 (IEEE) of the top 25 levels per side, interleaved
// "bid1px:bid1sz:ask1px:ask1sz:bid2px:..." from the ORIGINAL price and size strings (re-formatting a
// number, e.g. "0.10" → "0.1", changes the checksum), compared as a signed int32. When one side has fewer
// levels the other side's remaining levels simply follow.
import type { OkxBook, OkxBookSide } from './book.js';

export const CHECKSUM_DEPTH = 25;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC32 (IEEE 802.3, as zlib) of the text's UTF-8 bytes, as a signed int32 (OKX's form). */
export function crc32Signed(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) | 0;
}

function topLevels(side: OkxBookSide): string[] {
  return side.top(CHECKSUM_DEPTH).map(([price, size]) => `${price}:${size}`);
}

/** The text OKX checksums: top 25 bids and asks interleaved. */
export function checksumText(book: OkxBook): string {
  const bids = topLevels(book.bids);
  const asks = topLevels(book.asks);
  const parts: string[] = [];
  for (let k = 0; k < CHECKSUM_DEPTH; k++) {
    if (k < bids.length) parts.push(bids[k]!);
    if (k < asks.length) parts.push(asks[k]!);
  }
  return parts.join(':');
}

export function okxChecksum(book: OkxBook): number {
  return crc32Signed(checksumText(book));
}
