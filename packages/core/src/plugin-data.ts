/**
 * The access-request part of Teleport plugin data, encoded exactly as the Go plugins do
 * (`lib/plugindata/access_request.go`, `email/plugindata.go`), so that a TypeScript daemon can
 * take over from a Go daemon with the same plugin name and both agree on CAS expectations.
 *
 * Go's `json.Marshal` details that matter: compact output, map keys sorted by bytes, and `<`,
 * `>`, `&`, U+2028, U+2029 escaped as `\u003c`… — {@link goJson} reproduces them.
 */

/** `""` while unresolved. */
export type ResolutionTag = '' | 'APPROVED' | 'DENIED' | 'EXPIRED' | 'PROMOTED';

/** The request facts the plugins keep next to their sent messages. */
export interface AccessRequestData {
  user: string;
  roles: string[];
  /** Friendly names (`node/web-1`) or `/cluster/kind/name`. */
  resources: string[];
  requestReason: string;
  /** Reviews already posted as replies; guards against posting one twice. */
  reviewsCount: number;
  resolution: ResolutionTag;
  resolveReason: string;
  systemAnnotations?: Record<string, string[]>;
  suggestedReviewers?: string[];
  loginsByRole?: Record<string, string[]>;
  maxDuration?: Date;
}

/**
 * Which keys are written: `full` is the shared set of slack, mattermost, discord and msteams;
 * `minimal` is email's six keys (`user`, `roles`, `request_reason`, `reviews_count`,
 * `resolution`, `resolve_reason`).
 */
export type PluginDataKeys = 'full' | 'minimal';

/** An empty record (what a fresh claim starts from). */
export function emptyRequestData(): AccessRequestData {
  return { user: '', roles: [], resources: [], requestReason: '', reviewsCount: 0, resolution: '', resolveReason: '' };
}

const escapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

const goEscaped = /[<>&\u2028\u2029]/;
const goEscapedAll = new RegExp(goEscaped.source, 'g');

/** A string as Go's `json.Marshal` writes it (HTML-safe escapes included). */
export function goJsonString(s: string): string {
  const json = JSON.stringify(s);
  return goEscaped.test(json) ? json.replace(goEscapedAll, (c) => escapes[c]!) : json;
}

/** Go's `json.Marshal` of strings, string arrays and string-keyed maps (keys sorted by bytes). */
export function goJson(value: unknown): string {
  if (typeof value === 'string') return goJsonString(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareBytes);
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const beyondBmpOrder = /[\ud800-\uffff]/;

/**
 * Byte-wise UTF-8 order, as Go sorts map keys. It is UTF-16 order unless a string holds a
 * surrogate pair or a character from U+D800 up (the two orders differ only there).
 */
function compareBytes(a: string, b: string): number {
  if (beyondBmpOrder.test(a) || beyondBmpOrder.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's `time.Format(time.RFC3339)` in UTC: second precision, `Z`. */
export function formatRfc3339(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ, or ±YYYYYY-… beyond year 9999
  return `${iso.slice(0, -5)}Z`;
}

/** Encodes the request part; `full` always yields the 7 base keys, plus the optional ones when set. */
export function encodeRequestData(data: AccessRequestData, keys: PluginDataKeys = 'full'): Record<string, string> {
  const out: Record<string, string> = {};
  out.user = data.user;
  out.roles = data.roles.join(',');
  if (keys === 'full') out.resources = data.resources.length ? goJson(data.resources) : '';
  out.request_reason = data.requestReason;
  out.reviews_count = data.reviewsCount > 0 ? String(data.reviewsCount) : '';
  out.resolution = data.resolution;
  out.resolve_reason = data.resolveReason;
  if (keys === 'minimal') return out;
  if (data.maxDuration) out.max_duration = formatRfc3339(data.maxDuration);
  if (data.systemAnnotations && Object.keys(data.systemAnnotations).length) out.system_annotations = goJson(data.systemAnnotations);
  if (data.suggestedReviewers?.length) out.suggested_reviewers = goJson(data.suggestedReviewers);
  if (data.loginsByRole && Object.keys(data.loginsByRole).length) out.logins_by_role = goJson(data.loginsByRole);
  return out;
}

/** Thrown when a stored value cannot be read (Go returns the JSON or time error). */
export class PluginDataDecodeError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`plugin data key ${key}: ${message}`);
    this.name = 'PluginDataDecodeError';
  }
}

function parseJson<T>(key: string, raw: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new PluginDataDecodeError(key, (err as Error).message);
  }
  if (value === null) return undefined;
  if (!check(value)) throw new PluginDataDecodeError(key, `unexpected JSON shape ${raw}`);
  return value;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStringListMap = (v: unknown): v is Record<string, string[]> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isStringArray);

/** Go's `fmt.Sscanf("%d")` / `strconv.Atoi` leniency: a leading integer, else 0. */
function parseCount(raw: string | undefined): number {
  const m = /^\s*[+-]?\d+/.exec(raw ?? '');
  return m ? Math.max(0, Number.parseInt(m[0], 10)) : 0;
}

/** Decodes the request part; missing keys are zero values. Throws {@link PluginDataDecodeError}. */
export function decodeRequestData(map: Record<string, string> | undefined): AccessRequestData {
  const m = map ?? {};
  const data = emptyRequestData();
  data.user = m.user ?? '';
  data.roles = m.roles ? m.roles.split(',') : [];
  data.requestReason = m.request_reason ?? '';
  data.reviewsCount = parseCount(m.reviews_count);
  data.resolution = (m.resolution ?? '') as ResolutionTag;
  data.resolveReason = m.resolve_reason ?? '';
  if (m.max_duration) {
    const t = new Date(m.max_duration);
    if (Number.isNaN(t.getTime()) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(m.max_duration)) {
      throw new PluginDataDecodeError('max_duration', `not an RFC 3339 time: ${m.max_duration}`);
    }
    data.maxDuration = t;
  }
  data.resources = parseJson('resources', m.resources, isStringArray) ?? [];
  const annotations = parseJson('system_annotations', m.system_annotations, isStringListMap);
  if (annotations && Object.keys(annotations).length) data.systemAnnotations = annotations;
  const reviewers = parseJson('suggested_reviewers', m.suggested_reviewers, isStringArray);
  if (reviewers?.length) data.suggestedReviewers = reviewers;
  const logins = parseJson('logins_by_role', m.logins_by_role, isStringListMap);
  if (logins && Object.keys(logins).length) data.loginsByRole = logins;
  return data;
}
