/**
 * An API base URL from the first of several key spellings (`apiurl`, `APIURL`, `api_url`):
 * later spellings are warned about, the value must be http(s), and it always ends in `/`.
 */
import type { ConfigReader } from './channel.js';

export function readApiUrl(reader: ConfigReader, keys: string[], fallback: string): string {
  const present = keys.filter((k) => reader.has(k));
  for (const k of present.slice(1)) reader.warn(k, `ignored: ${present[0]} is also set`);
  const key = present[0] ?? keys[0]!;
  const value = reader.string(key, { default: fallback }) ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    reader.error(key, `"${value}" is not a URL (expected e.g. ${fallback})`);
    return fallback;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    reader.error(key, `"${value}" must be an http(s) URL`);
    return fallback;
  }
  return value.endsWith('/') ? value : `${value}/`;
}
