/**
 * `types.PluginDataUpdateParams` written straight into one buffer. Every announcement makes two
 * of these writes; through protobufjs (fromObject, then a writer that allocates an object per
 * field) they took ~5% of the plugin's CPU, and more in garbage, when catching up on a
 * backlog. The bytes are the ones protobufjs writes (test/plugin-data-wire.test.ts compares):
 *
 *   1 Kind, 2 Resource, 3 Plugin: string, written even when empty (as protobufjs does);
 *   4 Set, 5 Expect: map<string, string>, one entry per key, key (1) and value (2) always
 *     written, even "" — an Expect of "" ("must be absent") has to reach the server.
 *
 * The sandbox Auth server reads them with the decoder below, for the same reason: on one machine
 * its CPU is taken from the plugin it serves.
 */

export interface PluginDataUpdate {
  Kind: string;
  Resource: string;
  Plugin: string;
  Set: Record<string, string>;
  Expect: Record<string, string>;
}

const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/**
 * Strings at least this long go through Buffer's native UTF-8 code; shorter ones (most keys and
 * values) are measured and written here, which is cheaper than a call into C++ each.
 */
const NATIVE_FROM = 64;

/** UTF-8 length; a lone surrogate counts as U+FFFD, as Buffer writes it. */
function utf8Length(s: string): number {
  if (s.length >= NATIVE_FROM) return Buffer.byteLength(s);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function writeUtf8(buf: Buffer, pos: number, s: string): number {
  if (s.length >= NATIVE_FROM) return pos + buf.write(s, pos);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** Per key: key length, value length, entry length (computed once, used while writing). */
function entrySizes(map: Record<string, string>, keys: string[]): number[] {
  const sizes: number[] = [];
  for (const key of keys) {
    const k = utf8Length(key);
    const v = utf8Length(map[key]!);
    sizes.push(k, v, 1 + varintSize(k) + k + 1 + varintSize(v) + v);
  }
  return sizes;
}

const mapSize = (sizes: number[]) => {
  let total = 0;
  for (let i = 2; i < sizes.length; i += 3) total += 1 + varintSize(sizes[i]!) + sizes[i]!;
  return total;
};

function writeMap(buf: Buffer, pos: number, tag: number, map: Record<string, string>, keys: string[], sizes: number[]): number {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, sizes[3 * i + 2]!);
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizes[3 * i]!);
    pos = writeUtf8(buf, pos, key);
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, sizes[3 * i + 1]!);
    pos = writeUtf8(buf, pos, map[key]!);
  }
  return pos;
}

function writeString(buf: Buffer, pos: number, tag: number, value: string, size: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, size);
  return writeUtf8(buf, pos, value);
}

const stringSize = (size: number) => 1 + varintSize(size) + size;

export function encodePluginDataUpdate(p: PluginDataUpdate): Buffer {
  const kind = utf8Length(p.Kind);
  const resource = utf8Length(p.Resource);
  const plugin = utf8Length(p.Plugin);
  const setKeys = Object.keys(p.Set);
  const expectKeys = Object.keys(p.Expect);
  const setSizes = entrySizes(p.Set, setKeys);
  const expectSizes = entrySizes(p.Expect, expectKeys);
  const buf = Buffer.allocUnsafe(stringSize(kind) + stringSize(resource) + stringSize(plugin) + mapSize(setSizes) + mapSize(expectSizes));
  let pos = writeString(buf, 0, 0x0a, p.Kind, kind);
  pos = writeString(buf, pos, 0x12, p.Resource, resource);
  pos = writeString(buf, pos, 0x1a, p.Plugin, plugin);
  pos = writeMap(buf, pos, 0x22, p.Set, setKeys, setSizes);
  writeMap(buf, pos, 0x2a, p.Expect, expectKeys, expectSizes);
  return buf;
}

/** Reads a varint at `pos`; returns [value, next position]. */
function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
  }
  throw new RangeError('varint too long');
}

/** Skips a field of `wireType` at `pos` (a field this subset does not know). */
function skipField(buf: Buffer, pos: number, wireType: number): number {
  if (wireType === 0) return readVarint(buf, pos)[1];
  if (wireType === 1) return pos + 8;
  if (wireType === 5) return pos + 4;
  if (wireType === 2) {
    const [len, at] = readVarint(buf, pos);
    return at + len;
  }
  throw new RangeError(`unsupported wire type ${wireType}`);
}

function readMapEntry(buf: Buffer, pos: number, end: number, into: Record<string, string>): void {
  let key = '';
  let value = '';
  while (pos < end) {
    const [tag, at] = readVarint(buf, pos);
    pos = at;
    if (tag === 0x0a || tag === 0x12) {
      const [len, start] = readVarint(buf, pos);
      pos = start + len;
      if (pos > end) throw new RangeError('truncated map entry');
      if (tag === 0x0a) key = buf.toString('utf8', start, pos);
      else value = buf.toString('utf8', start, pos);
    } else {
      pos = skipField(buf, pos, tag & 7);
    }
  }
  into[key] = value;
}

/** The server side (the sandbox): what proto-loader would decode, zero values filled in. */
export function decodePluginDataUpdate(buf: Buffer): PluginDataUpdate {
  const out: PluginDataUpdate = { Kind: '', Resource: '', Plugin: '', Set: {}, Expect: {} };
  let pos = 0;
  while (pos < buf.length) {
    const [tag, at] = readVarint(buf, pos);
    pos = at;
    const field = Math.floor(tag / 8);
    if ((tag & 7) !== 2 || field < 1 || field > 5) {
      pos = skipField(buf, pos, tag & 7);
      continue;
    }
    const [len, start] = readVarint(buf, pos);
    pos = start + len;
    if (pos > buf.length) throw new RangeError('truncated field');
    if (field === 4 || field === 5) readMapEntry(buf, start, pos, field === 4 ? out.Set : out.Expect);
    else out[field === 1 ? 'Kind' : field === 2 ? 'Resource' : 'Plugin'] = buf.toString('utf8', start, pos);
  }
  if (pos !== buf.length) throw new RangeError('truncated message');
  return out;
}
