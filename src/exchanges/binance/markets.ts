// Binance's exchange ids and what each trades: spot, USDⓈ-M (linear) and COIN-M (inverse) futures.
import type { MarketType } from '../../data/types.js';

export type BinanceExchange = 'binance-spot' | 'binance-usdm' | 'binance-coinm';

export const BINANCE_MARKET: Record<BinanceExchange, MarketType> = {
  'binance-spot': 'spot',
  'binance-usdm': 'linear',
  'binance-coinm': 'inverse',
};
