// The Coinbase Advanced Trade adapter: imported from cryptofeed captures; no recorder or simulator side yet.
import type { ExchangeAdapter } from '../kit/adapter.js';
import { COINBASE_FEES, COINBASE_RATE_LIMITS, coinbaseContractSpec } from './contracts.js';
import { CoinbaseNormalizer } from './normalizer.js';

export const coinbase: ExchangeAdapter = {
  id: 'coinbase',
  market: () => 'spot',
  contractSpec: coinbaseContractSpec,
  defaultFees: () => COINBASE_FEES,
  rateLimits: COINBASE_RATE_LIMITS,
  normalizer: (sink, problems) => new CoinbaseNormalizer(sink, problems),
  captures: { cryptofeed: { name: 'COINBASE' } },
};
