// SMTP delivery against a real SMTP server: each starttls_policy with and without STARTTLS,
// implicit TLS, wrong password, a refused recipient, and a server that is down then back.
import { afterEach, describe, expect, it } from 'vitest';
import { CapturedLog } from '@tap/core/testing';
import { SmtpTransport, type SmtpSection } from '@tap/email';
import { TestSmtpServer, type TestSmtpServerOptions } from '../src/testing/test-smtp-server.js';

const log = new CapturedLog().logger;
const servers: TestSmtpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestSmtpServerOptions = {}) {
  const s = await TestSmtpServer.start(options);
  servers.push(s);
  return s;
}

function transport(s: TestSmtpServer, over: Partial<SmtpSection> = {}) {
  const smtp: SmtpSection = { host: s.host, port: s.port, username: 'plugin', password: 'secret', starttlsPolicy: 'mandatory', implicitTls: false, caPem: s.caPem, ...over };
  return new SmtpTransport(smtp, 'Teleport <noreply@example.com>', { log, backoffBaseMs: 20 });
}

const mail = { to: 'alice@example.com', subject: 'hello', text: 'body', html: '<p>body</p>' };
const deadline = () => AbortSignal.timeout(5_000);

describe('starttls_policy', () => {
  it('mandatory: upgrades with STARTTLS, verifies the certificate, authenticates and delivers', async () => {
    const s = await server();
    const t = transport(s);
    expect(await t.check(deadline())).toStrictEqual([`connected to 127.0.0.1:${s.port}`, 'STARTTLS negotiated, certificate verified', 'authenticated as plugin']);
    await t.send(mail, deadline());
    expect(s.mailsTo('alice@example.com')).toHaveLength(1);
  });

  it('mandatory: refuses a server without STARTTLS', async () => {
    const s = await server({ starttls: false });
    await expect(transport(s).check(deadline())).rejects.toThrow(/STARTTLS/);
    await expect(transport(s).send(mail, deadline())).rejects.toThrow(/STARTTLS/);
    expect(s.mails).toHaveLength(0);
  });

  it('mandatory: refuses a certificate it does not trust (no ca_file)', async () => {
    const s = await server();
    await expect(transport(s, { caPem: undefined }).check(deadline())).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('opportunistic: uses STARTTLS when offered, plaintext when not', async () => {
    const withTls = await server();
    expect((await transport(withTls, { starttlsPolicy: 'opportunistic' }).check(deadline()))[1]).toBe('STARTTLS negotiated, certificate verified');
    const without = await server({ starttls: false });
    const t = transport(without, { starttlsPolicy: 'opportunistic' });
    expect((await t.check(deadline()))[1]).toBe('no TLS (starttls_policy allows plaintext)');
    await t.send(mail, deadline());
    expect(without.mails).toHaveLength(1);
  });

  it('disabled: never upgrades, even when STARTTLS is offered', async () => {
    const s = await server();
    const t = transport(s, { starttlsPolicy: 'disabled' });
    expect((await t.check(deadline()))[1]).toBe('no TLS (starttls_policy allows plaintext)');
    await t.send(mail, deadline());
    expect(s.mails).toHaveLength(1);
  });

  it('port 465 (implicit TLS): TLS from the first byte, no STARTTLS', async () => {
    const s = await server({ implicitTls: true });
    const t = transport(s, { implicitTls: true });
    expect(t.describe()).toBe(`SMTP 127.0.0.1:${s.port} (implicit TLS)`);
    expect((await t.check(deadline()))[1]).toBe('implicit TLS, certificate verified');
    await t.send(mail, deadline());
    expect(s.mails).toHaveLength(1);
    // The same server spoken to in plaintext first: no answer it understands.
    await expect(transport(s, { implicitTls: false, starttlsPolicy: 'opportunistic' }).check(AbortSignal.timeout(3_000))).rejects.toThrow();
  });
});

describe('failures', () => {
  it('a wrong password fails without retrying, with the server\'s words', async () => {
    const s = await server();
    await expect(transport(s, { password: 'wrong' }).send(mail, deadline())).rejects.toThrow(/authentication failed for plugin .*535/);
    expect(s.authFailures).toBe(1);
  });

  it('a refused recipient is a permanent error with the server\'s words', async () => {
    const s = await server();
    s.refuse.add('gone@example.com');
    await expect(transport(s).send({ ...mail, to: 'gone@example.com' }, deadline())).rejects.toThrow(/550 .*User unknown/);
  });

  it('a server that is down and comes back gets the mail (nothing lost)', async () => {
    const s = await server();
    await s.stop();
    const sending = transport(s).send(mail, AbortSignal.timeout(10_000));
    await new Promise((r) => setTimeout(r, 300));
    await s.restart();
    await sending;
    expect(s.mailsTo('alice@example.com')).toHaveLength(1);
  });
});

