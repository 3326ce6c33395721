// The one redaction of secrets for everything the recorder prints, logs, keeps in its problem log or writes
// into a dataset (manifest, raw connect rows): user:password in URLs, and query parameters that carry keys,
// tokens or signatures. Public market data needs none of these; a user may still pass them in --url or
// --rest-url (a proxy's credentials, a listenKey), and they must never leave the process.

/** Query (or fragment) parameters whose values are secrets; matched case-insensitively. */
const SECRET_PARAMS = [
  'listenkey',
  'signature',
  'sign',
  'apikey',
  'api_key',
  'api-key',
  'key',
  'secret',
  'token',
  'access_token',
  'auth',
  'password',
  'passphrase',
  'timestamp_signature',
];

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*@/gi;
const PARAM = new RegExp(`([?&#;](?:${SECRET_PARAMS.map((p) => p.replace(/[-_]/g, '[-_]?')).join('|')})=)[^&#\\s"'<>]*`, 'gi');

/** `text` with every URL's user:password and every secret query parameter's value replaced by "***". */
export function redactSecrets(text: string): string {
  return text.replace(USERINFO, '$1***@').replace(PARAM, '$1***');
}
