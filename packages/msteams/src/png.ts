/**
 * A tiny PNG encoder (8-bit RGBA, no filtering) and the app icons drawn in code: our own
 * artwork, a white key-hole shield, never Teleport's assets. Teams wants a 192×192 colour
 * icon and a 32×32 white-on-transparent outline icon.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes `pixel(x, y) → [r, g, b, a]` as a PNG of `size`×`size`. */
export function encodePng(size: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), y * (size * 4 + 1) + 1 + x * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit, RGBA, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Is (u, v) (both 0..1) inside the key-hole: a circle over a tapering slot? */
function keyhole(u: number, v: number): boolean {
  const inCircle = (u - 0.5) ** 2 + (v - 0.42) ** 2 < 0.1 ** 2;
  const half = 0.04 + (v - 0.42) * 0.12;
  const inSlot = v > 0.42 && v < 0.7 && Math.abs(u - 0.5) < half;
  return inCircle || inSlot;
}

/** Is (u, v) inside the shield outline (rounded top, pointed bottom)? */
function shield(u: number, v: number, inset = 0): boolean {
  const x = Math.abs(u - 0.5);
  if (v < 0.16 + inset || v > 0.88 - inset) return false;
  if (v < 0.6) return x < 0.32 - inset;
  const narrowing = ((v - 0.6) / (0.88 - inset - 0.6)) * (0.32 - inset);
  return x < 0.32 - inset - narrowing;
}

/** 192×192: a white shield with a key-hole on a teal background. */
export function colorIcon(): Buffer {
  const size = 192;
  return encodePng(size, (x, y) => {
    const u = (x + 0.5) / size;
    const v = (y + 0.5) / size;
    if (shield(u, v) && !keyhole(u, v)) return [255, 255, 255, 255];
    return [0x0b, 0x72, 0x85, 255];
  });
}

/** 32×32: the shield's outline and key-hole in white on transparent. */
export function outlineIcon(): Buffer {
  const size = 32;
  return encodePng(size, (x, y) => {
    const u = (x + 0.5) / size;
    const v = (y + 0.5) / size;
    const ring = shield(u, v) && !shield(u, v, 0.07);
    return ring || (shield(u, v) && keyhole(u, v)) ? [255, 255, 255, 255] : [0, 0, 0, 0];
  });
}
