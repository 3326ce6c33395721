// The simulator's OKX v5 market metadata: GET /api/v5/public/instruments and /api/v5/public/time, in OKX's
// shapes (every field a string, "" where it does not apply), generated from the dataset's instIds and their
// contract specs (contracts.ts, instruments.ts). A value the spec does not hold (minSz, maxLmtSz, lever,
// listTime, alias, ...) is sent as "" rather than made up; docs/exchange-sim.md lists what is sent.
import { decimalText } from '../kit/sim-frames.js';
import { okxContractSpec } from './contracts.js';
import { okxMarket } from './instruments.js';

const INST_TYPES = ['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION'];

/** The instType an instId belongs to, or null. */
function instTypeOf(instId: string): string | null {
  switch (okxMarket(instId)) {
    case 'spot':
      return 'SPOT';
    case 'linear':
    case 'inverse':
      return 'SWAP';
    case 'future':
      return 'FUTURES';
    case 'option':
      return 'OPTION';
    default:
      return null;
  }
}

/** Expiry of a dated instrument (BTC-USD-220527): 08:00 UTC that day, as OKX delivers. */
function expTime(instId: string): string {
  const m = /^[^-]+-[^-]+-(\d{2})(\d{2})(\d{2})/.exec(instId);
  return m ? String(Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), 8)) : '';
}

function instrument(instId: string, instType: string): Record<string, string> {
  const text = (x: number | undefined) => (x === undefined ? '' : decimalText(x));
  const [base, quote] = instId.split('-') as [string, string];
  const item: Record<string, string> = {
    instType,
    instId,
    uly: '',
    instFamily: '',
    baseCcy: '',
    quoteCcy: '',
    settleCcy: '',
    ctVal: '',
    ctMult: '',
    ctValCcy: '',
    ctType: '',
    optType: '',
    stk: '',
    listTime: '',
    expTime: '',
    alias: '',
    lever: '',
    tickSz: '',
    lotSz: '',
    minSz: '',
    maxLmtSz: '',
    maxMktSz: '',
    state: 'live',
  };
  let spec;
  try {
    spec = okxContractSpec(instId);
  } catch {
    spec = null; // a linear contract whose ctVal the project does not know: listed without its sizes
  }
  if (instType === 'SPOT') {
    Object.assign(item, { baseCcy: base, quoteCcy: quote });
  } else {
    const inverse = quote === 'USD';
    Object.assign(item, {
      uly: `${base}-${quote}`,
      instFamily: `${base}-${quote}`,
      settleCcy: inverse ? base : quote,
      ctVal: spec ? text(spec.contractValue) : '',
      ctMult: '1',
      ctValCcy: inverse ? quote : base,
      ctType: inverse ? 'inverse' : 'linear',
      expTime: instType === 'FUTURES' ? expTime(instId) : '',
    });
  }
  if (spec) Object.assign(item, { tickSz: text(spec.tickSize), lotSz: text(spec.lotSize), minSz: text(spec.lotSize) });
  return item;
}

export type OkxMetadataAnswer = { status: number; body: string };

/** The answer to a metadata path, or null when `path` is not one. `instIds`: the dataset's. */
export function okxMetadata(path: string, query: URLSearchParams, instIds: readonly string[], timeMs: number): OkxMetadataAnswer | null {
  if (path === '/api/v5/public/time') return { status: 200, body: JSON.stringify({ code: '0', msg: '', data: [{ ts: String(Math.floor(timeMs)) }] }) };
  if (path !== '/api/v5/public/instruments') return null;
  const instType = query.get('instType');
  if (instType === null || instType === '') return { status: 200, body: JSON.stringify({ code: '50014', msg: 'Parameter instType can not be empty.', data: [] }) };
  if (!INST_TYPES.includes(instType)) return { status: 200, body: JSON.stringify({ code: '51000', msg: 'Parameter instType error', data: [] }) };
  const only = query.get('instId');
  const family = query.get('uly') ?? query.get('instFamily');
  const data = instIds
    .filter((id) => instTypeOf(id) === instType && (only === null || only === id) && (family === null || id.startsWith(`${family}-`)))
    .map((id) => instrument(id, instType));
  return { status: 200, body: JSON.stringify({ code: '0', msg: '', data }) };
}
