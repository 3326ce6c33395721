// Symbol-reading helpers the exchanges' contract specs share.

/** Quote assets recognized at the end of concatenated symbols (BTCUSDT), longest first. */
const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'USDE', 'DAI', 'USD', 'EUR', 'TRY', 'BRL', 'GBP', 'JPY', 'BTC', 'ETH', 'BNB'];

export function splitConcatenated(exchange: string, symbol: string): { base: string; quote: string } {
  for (const q of QUOTES) {
    if (symbol.length > q.length && symbol.endsWith(q)) return { base: symbol.slice(0, -q.length), quote: q };
  }
  throw new Error(`${exchange} symbol "${symbol}": cannot tell base from quote (known quotes: ${QUOTES.join(', ')})`);
}

/** Binance COIN-M and OKX inverse contracts: 100 USD for BTC, 10 USD for every other coin. */
export function inverseContractUsd(base: string): number {
  return base === 'BTC' ? 100 : 10;
}

/** Published price and size increments of an instrument, and its minimums where the exchange has them. */
export interface Increments {
  tickSize: number;
  lotSize: number;
  /** Smallest order size, in the venue's size unit. */
  minQty?: number;
  /** Smallest order value (price × size × contract value), in quote. */
  minNotional?: number;
}

/** Apply a contract-value override (validated) to a spec the symbol determined. */
export function withContractValue<S extends { kind: string; contractValue: number }>(exchange: string, symbol: string, spec: S, contractValue: number | undefined): S {
  if (contractValue === undefined) return spec;
  if (spec.kind === 'spot') throw new Error(`${exchange} ${symbol} is spot: it has no contract size to override`);
  if (!(contractValue > 0) || !Number.isFinite(contractValue)) throw new Error(`contract value must be > 0, got ${contractValue}`);
  return { ...spec, contractValue };
}
