// How hftbacktest's Binance collector files name each market: by file-name prefix, else by the first
// depthUpdate's fields (COIN-M diffs carry "ps", USD-M diffs "pu", spot diffs neither).
import type { CaptureNames } from '../kit/adapter.js';
import type { BinanceExchange } from './markets.js';

export const BINANCE_HFTBACKTEST: Record<BinanceExchange, NonNullable<CaptureNames['hftbacktest']>> = {
  'binance-spot': { filePrefixes: ['spot_'], ownsDepthUpdate: (d) => !('ps' in d) && !('pu' in d) },
  'binance-usdm': { filePrefixes: ['usdm_', 'um_', 'futures_'], ownsDepthUpdate: (d) => !('ps' in d) && 'pu' in d },
  'binance-coinm': { filePrefixes: ['cm_', 'coinm_'], ownsDepthUpdate: (d) => 'ps' in d },
};
