// Mails as recipients get them, against the sandbox and a real SMTP server (or the Mailgun
// fake): headers and threading, escaping in the HTML part, the requester's outcome.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { email, type EmailSection } from '@tap/email';
import { FakeMailgun } from '../src/testing/fake-mailgun.js';
import { TestSmtpServer } from '../src/testing/test-smtp-server.js';

let sandbox: Sandbox;
let smtp: TestSmtpServer;
const running: TestPlugin<EmailSection>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  smtp = await TestSmtpServer.start();
});
afterAll(async () => {
  await smtp.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const smtpSection = (): EmailSection => ({
  transport: { kind: 'smtp', smtp: { host: smtp.host, port: smtp.port, username: 'plugin', password: 'secret', starttlsPolicy: 'mandatory', implicitTls: false, caPem: smtp.caPem } },
  sender: 'Teleport <noreply@example.com>',
  deliveryRecipients: [],
});

async function start(section: EmailSection = smtpSection(), recipients: Record<string, string[]> = { '*': ['all@example.com'] }) {
  const p = await startTestPlugin<EmailSection>({ sandbox, channel: email, section, recipients, user: 'email-plugin' });
  running.push(p);
  return p;
}

describe('a request by email', () => {
  it('starts a thread per recipient and follows it with each review and the resolution', async () => {
    await start();
    const id = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'], reason: 'because of', suggestedReviewers: ['reviewer1@example.com'] });
    const first = await eventually(() => smtp.mailsTo('all@example.com').find((m) => m.subject.includes(id)), 10_000, 'the first mail');
    expect(first.subject).toBe(`sandbox.test Role Request ${id}`);
    expect(first.from).toBe('noreply@example.com');
    expect(first.messageId).toMatch(/^<[0-9A-Z]+\.[0-9A-Z]+@[^<>]+>$/);
    expect(first.text).toBe(
      `You have a new Role Request:\n\nID: ${id}\nCluster: sandbox.test\nUser: requester@example.com\nRole(s): editor\nReason: because of\nLink: https://teleport.example.com/web/requests/${id}\n\nStatus: ⏳ PENDING`,
    );
    await eventually(() => smtp.mailsTo('reviewer1@example.com').some((m) => m.subject.includes(id)), 10_000, 'the suggested reviewer');

    await sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'okay' });
    await sandbox.review(id, { author: 'reviewer2@example.com', state: 'APPROVED', reason: 'finally okay' });
    const thread = () => smtp.mailsTo('all@example.com').filter((m) => m.inReplyTo === first.messageId);
    await eventually(() => thread().length === 3, 10_000, 'two reviews and the resolution in the thread');
    const [review1, review2, resolution] = thread();
    expect(review1!.text).toMatch(/^reviewer1@example.com reviewed the request at \d\d \w{3} \d\d \d\d:\d\d UTC\.\nResolution: ✅ APPROVED\.\nReason: okay\.$/);
    expect(review2!.text).toContain('reviewer2@example.com reviewed the request');
    expect(resolution!.text.split('\n')[0]).toBe('Role Request has been resolved:');
    expect(resolution!.text).toMatch(/\nStatus: ✅ APPROVED( \(.*\))?$/);
    for (const m of thread()) {
      expect(m.subject).toBe(first.subject);
      expect(m.references).toStrictEqual([first.messageId]);
      expect(m.headers.get('in-reply-to')).toBe(first.messageId);
      expect(m.messageId).not.toBe(first.messageId);
    }
  });

  it('tells the requester the outcome once, and marks an expired request', async () => {
    await start();
    const approved = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'] });
    await eventually(() => smtp.mailsTo('all@example.com').some((m) => m.subject.includes(approved)));
    await sandbox.deny(approved, 'not now');
    const notice = () => smtp.mailsTo('requester@example.com').filter((m) => m.subject.includes(approved));
    await eventually(() => notice().length === 1, 10_000, 'the requester notice');
    expect(notice()[0]!.text).toContain(`Request with ID "${approved}" has been updated: *DENIED*`);
    expect(notice()[0]!.text).toContain('Reason: not now');

    const expired = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'] });
    const root = await eventually(() => smtp.mailsTo('all@example.com').find((m) => m.subject.includes(expired) && !m.inReplyTo));
    await sandbox.expire(expired);
    const last = await eventually(() => smtp.mailsTo('all@example.com').find((m) => m.inReplyTo === root.messageId));
    expect(last.text.endsWith('Status: ⌛ EXPIRED')).toBe(true);
  });

  it('escapes requester text in the HTML part', async () => {
    await start();
    const id = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'], reason: '<script>alert(1)</script> <a href="https://evil.example">click</a> & <img src=x onerror=alert(2)>' });
    const m = await eventually(() => smtp.mailsTo('all@example.com').find((x) => x.subject.includes(id)));
    expect(m.html).not.toMatch(/<script|<a href="https:\/\/evil|<img/);
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).toContain(`<a href="https://teleport.example.com/web/requests/${id}">`);
    expect(m.text).toContain('<script>alert(1)</script>');
  });

  it('gets every mail through a mail server that is briefly down', async () => {
    await start();
    await smtp.stop();
    const id = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'] });
    await new Promise((r) => setTimeout(r, 500));
    await smtp.restart();
    await eventually(() => smtp.mailsTo('all@example.com').some((m) => m.subject.includes(id)), 15_000, 'the mail after the outage');
  });
});

describe('Mailgun', () => {
  it('sends the form fields Mailgun expects and threads with single angle brackets (EU base)', async () => {
    const mg = await FakeMailgun.start({ domains: ['mg.example.eu'] });
    try {
      const p = await start({ transport: { kind: 'mailgun', mailgun: { domain: 'mg.example.eu', privateKey: mg.key, apiBase: mg.url } }, sender: 'noreply@example.com', deliveryRecipients: [] });
      expect(p.log.has('Using Mailgun as email transport')).toBe(true);
      expect(mg.messages.filter((m) => m.testMode)).toHaveLength(1);
      const id = await sandbox.createRequest({ user: 'requester@example.com', roles: ['editor'] });
      const first = await eventually(() => mg.messagesTo('all@example.com').find((m) => m.fields.subject?.[0]?.includes(id)));
      expect(first.fields.from).toStrictEqual(['noreply@example.com']);
      expect(first.fields['o:require-tls']).toStrictEqual(['true']);
      expect(first.fields.text?.[0]).toContain('Status: ⏳ PENDING');
      await sandbox.approve(id, 'ok');
      const follow = await eventually(() => mg.messagesTo('all@example.com').find((m) => m.fields['h:In-Reply-To']));
      expect(follow.fields['h:In-Reply-To']).toStrictEqual([first.id]);
      expect(follow.fields['h:References']).toStrictEqual([first.id]);
      expect(first.id).toMatch(/^<[^<>]+>$/);
    } finally {
      await mg.close();
    }
  });

  it('refuses to start with a wrong key', async () => {
    const mg = await FakeMailgun.start();
    try {
      await expect(start({ transport: { kind: 'mailgun', mailgun: { domain: 'mg.example.com', privateKey: 'wrong', apiBase: mg.url } }, sender: 'noreply@example.com', deliveryRecipients: [] })).rejects.toThrow(
        /Mailgun refused the message \(HTTP 401\).*check \[mailgun\] private_key/,
      );
    } finally {
      await mg.close();
    }
  });
});
