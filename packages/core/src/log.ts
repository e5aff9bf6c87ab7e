/**
 * Logging with pino: `[log] format = "text"` prints one readable line per event (journald-
 * friendly, like the Go daemons), `json` prints pino JSON with string levels. Secrets are
 * redacted by field name at any depth we log. Formatting happens in-process (no worker
 * threads), so single-file bundles work.
 */
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { LogConfig } from './config-types.js';

const SECRET_FIELDS = ['token', 'app_token', 'password', 'private_key', 'app_secret', 'appSecret', 'authorization', 'secret', 'privateKey'];
/** pino redaction paths: the secret field names at the top level and up to three levels deep. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function formatValue(v: unknown): string {
  if (v instanceof Object) {
    const s = JSON.stringify(v);
    return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
  }
  const s = String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** One pino JSON line → `2026-11-24T10:00:00.000Z INFO  Plugin is ready plugin=slack`. */
export function formatTextLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json);
  } catch {
    return json;
  }
  const { time, level, msg, err, pid: _pid, hostname: _host, ...fields } = o;
  const when = typeof time === 'number' ? new Date(time).toISOString() : String(time ?? '');
  const lvl = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const parts = [when, lvl, String(msg ?? '')];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${formatValue(v)}`);
  if (err && typeof err === 'object') {
    const e = err as { message?: string; type?: string; stack?: string };
    parts.push(`error=${formatValue(e.message ?? e.type ?? err)}`);
  }
  return `${parts.join(' ')}\n`;
}

function destinationFor(output: string): NodeJS.WritableStream {
  const o = output.toLowerCase();
  if (o === '' || o === 'stderr' || o === 'error' || o === '2') return process.stderr;
  if (o === 'stdout' || o === 'out' || o === '1') return process.stdout;
  return createWriteStream(output, { flags: 'a', mode: 0o644 });
}

export interface LoggerOptions {
  /** `start --debug`: forces debug severity. */
  debug?: boolean;
  /** Overrides `[log] output` (tests). */
  destination?: NodeJS.WritableStream;
}

/** Creates the plugin's root logger from `[log]`. */
export function createLogger(config: LogConfig, options: LoggerOptions = {}): Logger {
  const out = options.destination ?? destinationFor(config.output);
  const level = options.debug ? 'debug' : config.severity;
  // errWithCause keeps `message` as thrown (the default serializer appends every cause's
  // message, doubling our wrappers' text, which already quote their cause); causes stay in `cause`.
  const base = { redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }, base: undefined, level, serializers: { err: pino.stdSerializers.errWithCause } } as const;
  if (config.format === 'json') {
    return pino({ ...base, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, out);
  }
  const text = new Writable({
    write(chunk, _enc, cb) {
      const lines = String(chunk).split('\n').filter(Boolean);
      out.write(lines.map(formatTextLine).join(''));
      cb();
    },
  });
  return pino(base, text);
}
