/**
 * The client side of an RFC 6455 WebSocket as a byte stream, for the connection upgrade: every
 * write goes out as one masked binary frame; binary/text/continuation payloads are read back in
 * order; the server's pings are answered with pongs (Teleport pings every few seconds to keep
 * load balancers from timing the tunnel out); a close frame ends the stream.
 */
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
const MAX_FRAME = 16 * 1024 * 1024;

export function encodeClientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const header = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (len < 126) header[1] = 0x80 | len;
  else if (len < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

/** A byte stream carried in frames over `socket`: subclasses parse and write the framing. */
abstract class FramedStream extends Duplex {
  protected buf: Buffer = Buffer.alloc(0);

  constructor(protected readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.once('end', () => this.push(null));
    socket.once('error', (err) => this.destroy(err));
    socket.once('close', () => this.destroy());
  }

  /** Parses what arrived; pushes payloads (pausing the socket when the reader is full). */
  protected abstract onFrames(): void;

  protected onBytes(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.onFrames();
  }

  protected deliver(payload: Buffer): void {
    if (payload.length && !this.push(payload)) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

export class WebSocketStream extends FramedStream {
  #closed = false;

  constructor(socket: Duplex, head: Buffer = Buffer.alloc(0)) {
    super(socket);
    if (head.length) this.onBytes(head);
  }

  protected onFrames(): void {
    for (;;) {
      const frame = this.#nextFrame();
      if (!frame || frame === 'error') return;
      const { opcode, payload } = frame;
      if (opcode === OP.binary || opcode === OP.text || opcode === OP.continuation) {
        this.deliver(payload);
      } else if (opcode === OP.ping) {
        this.socket.write(encodeClientFrame(OP.pong, payload));
      } else if (opcode === OP.close) {
        if (!this.#closed) {
          this.#closed = true;
          this.socket.end(encodeClientFrame(OP.close, payload.subarray(0, 2)));
        }
        this.push(null);
        return;
      }
    }
  }

  #nextFrame(): { opcode: number; payload: Buffer } | 'error' | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    let len = b[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_FRAME)) {
        this.destroy(new Error('WebSocket frame too large'));
        return 'error';
      }
      len = Number(big);
      off = 10;
    }
    const maskKey = masked ? b.subarray(off, off + 4) : undefined;
    if (masked) off += 4;
    if (b.length < off + len) return undefined;
    const payload = Buffer.from(b.subarray(off, off + len));
    if (maskKey) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ maskKey[i & 3]!;
    this.buf = b.subarray(off + len);
    return { opcode, payload };
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#closed) return cb(new Error('WebSocket is closed'));
    this.socket.write(encodeClientFrame(OP.binary, chunk), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      this.socket.end(encodeClientFrame(OP.close, code));
    }
    cb();
  }
}

/**
 * Teleport's legacy `alpn-ping` framing (servers before v17 that answer the upgrade without
 * WebSocket): each write is a 4-byte big-endian length then the bytes; length 0 is a ping.
 */
export class PingConnStream extends FramedStream {
  constructor(socket: Duplex, head: Buffer = Buffer.alloc(0)) {
    super(socket);
    if (head.length) this.onBytes(head);
  }

  protected onFrames(): void {
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME) return void this.destroy(new Error('ping-conn frame too large'));
      if (this.buf.length < 4 + len) return;
      const payload = Buffer.from(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      this.deliver(payload);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(chunk.length);
    this.socket.write(Buffer.concat([len, chunk]), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }
}
