// Arrow schemas of a dataset's two tables. docs/dataset-format.md describes every column.
import {
  Dictionary,
  Field,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  Schema,
  TimestampNanosecond,
  Uint8,
  Uint16,
  Utf8,
} from 'apache-arrow';

/** 2 added the events table's `publish_ts` column; version 1 datasets (without it) stay readable: their
 *  publish time is read as the exchange time. */
export const FORMAT_VERSION = 2;
/** The events table's second exchange clock (docs/dataset-format.md). Absent from version 1 datasets. */
export const PUBLISH_TS_COLUMN = 'publish_ts';

// Dictionary ids must be unique within one IPC stream.
const exchangeDictType = () => new Dictionary(new Utf8(), new Int8(), 0, false);
const marketDictType = () => new Dictionary(new Utf8(), new Int8(), 1, false);
const symbolDictType = () => new Dictionary(new Utf8(), new Int16(), 2, false);

export function eventSchema(): Schema {
  return new Schema(
    [
      new Field('local_ts', new TimestampNanosecond('UTC'), false),
      new Field('exch_ts', new TimestampNanosecond('UTC'), false),
      new Field('stream', new Uint16(), false),
      new Field('exchange', exchangeDictType(), false),
      new Field('market', marketDictType(), false),
      new Field('symbol', symbolDictType(), false),
      new Field('kind', new Uint8(), false),
      new Field('side', new Int8(), false),
      new Field('price', new Float64(), false),
      new Field('size', new Float64(), false),
      new Field('id', new Int64(), false),
      new Field('prev_id', new Int64(), false),
      new Field('flags', new Uint16(), false),
      new Field(PUBLISH_TS_COLUMN, new TimestampNanosecond('UTC'), false),
    ],
    new Map([['latencylab.table', `events/${FORMAT_VERSION}`]]),
  );
}

export function rawSchema(): Schema {
  return new Schema(
    [
      new Field('local_ts', new TimestampNanosecond('UTC'), false),
      new Field('exchange', new Dictionary(new Utf8(), new Int8(), 10, false), false),
      new Field('source', new Dictionary(new Utf8(), new Int32(), 11, false), false),
      new Field('line', new Int64(), false),
      new Field('kind', new Uint8(), false),
      new Field('data', new Utf8(), false),
    ],
    // The raw table has not changed since version 1 (its tag stays, so raw segments keep their bytes).
    new Map([['latencylab.table', 'raw/1']]),
  );
}

export const EVENT_COLUMNS = eventSchema().fields.map((f) => f.name);
