// Plugin logging: a readable text line per event (like the Go daemons' logfmt-ish output), pino
// JSON when asked, severity filtering, and secrets that never reach the output in either format.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatTextLine } from '@tap/core';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const SECRETS = { token: 'xoxb-very-secret', password: 'hunter2', app_secret: 'teams-s3cret', authorization: 'Bearer abc.def' };

describe('text format', () => {
  it('prints time, level, message and fields on one line', () => {
    const out = capture();
    const log = createLogger({ output: 'stderr', severity: 'info', format: 'text' }, { destination: out.stream });
    log.child({ plugin: 'slack' }).info({ request_id: 'f1a2', request_op: 'put', reason: 'needs access' }, 'Successfully posted messages');
    expect(out.lines()).toHaveLength(1);
    expect(out.lines()[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  Successfully posted messages plugin=slack request_id=f1a2 request_op=put reason="needs access"$/);
  });

  it('shows an error by its message and keeps a multi-line message on one line', () => {
    const out = capture();
    const log = createLogger({ output: 'stderr', severity: 'info', format: 'text' }, { destination: out.stream });
    log.error({ err: new Error('connection refused\nby peer') }, 'Terminating with fatal error');
    expect(out.lines()).toStrictEqual([expect.stringMatching(/Z ERROR Terminating with fatal error error="connection refused\\nby peer"$/)]);
  });

  it('filters by severity, and --debug lowers it', () => {
    const out = capture();
    const log = createLogger({ output: 'stderr', severity: 'warn', format: 'text' }, { destination: out.stream });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines()).toStrictEqual([expect.stringMatching(/ WARN  shown$/)]);
    const dbg = capture();
    createLogger({ output: 'stderr', severity: 'warn', format: 'text' }, { debug: true, destination: dbg.stream }).debug('DEBUG logging enabled');
    expect(dbg.lines()).toStrictEqual([expect.stringMatching(/ DEBUG DEBUG logging enabled$/)]);
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatTextLine('plain words')).toBe('plain words');
  });
});

describe('json format', () => {
  it('prints one JSON object per event with a string level and an ISO time', () => {
    const out = capture();
    const log = createLogger({ output: 'stderr', severity: 'debug', format: 'json' }, { destination: out.stream });
    log.debug({ request_id: 'f1a2' }, 'Watcher connected');
    const [line, ...rest] = out.lines();
    expect(rest).toHaveLength(0);
    const o = JSON.parse(line!);
    expect(o).toMatchObject({ level: 'debug', msg: 'Watcher connected', request_id: 'f1a2' });
    expect(new Date(o.time).toISOString()).toBe(o.time);
  });
});

describe('secrets', () => {
  for (const format of ['text', 'json'] as const) {
    it(`never prints tokens, passwords or app secrets (${format})`, () => {
      const out = capture();
      const log = createLogger({ output: 'stderr', severity: 'debug', format }, { destination: out.stream });
      log.info(SECRETS, 'top level');
      log.info({ config: { slack: { ...SECRETS } } }, 'nested');
      log.child({ msteams: { appSecret: 'teams-s3cret' }, smtp: { password: 'hunter2' } }).warn('in bindings');
      log.error({ err: Object.assign(new Error('request failed'), { config: { headers: { authorization: 'Bearer abc.def' } } }) }, 'on an error');
      log.child({ request_id: 'r1' }).child({ smtp: { password: 'hunter2' } }).info('in a grandchild');
      log.info({ recipients: [{ token: 'xoxb-very-secret', name: '#ops' }], body: Buffer.alloc(4) }, 'in an array');
      const text = out.text();
      expect(out.lines()).toHaveLength(6);
      for (const secret of ['xoxb-very-secret', 'hunter2', 'teams-s3cret', 'abc.def']) expect(text).not.toContain(secret);
      expect(text).toContain('[REDACTED]');
      // What is not secret still shows, and the caller's objects are left as they were.
      for (const kept of ['request failed', 'r1', '#ops']) expect(text).toContain(kept);
      expect(SECRETS.token).toBe('xoxb-very-secret');
    });
  }
});
