/**
 * A real SMTP server in-process (smtp-server), for tests and the demo: STARTTLS offered or
 * not, implicit TLS (as on port 465), AUTH PLAIN/LOGIN with one user, and every accepted mail
 * parsed back with mailparser. Its certificate is self-signed for 127.0.0.1 and localhost;
 * `caPem` is what a client must trust.
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';

export interface TestSmtpServerOptions {
  /** Offer STARTTLS (default true). */
  starttls?: boolean;
  /** TLS from the first byte, as on port 465 (default false). */
  implicitTls?: boolean;
  /** Required credentials (default `{user: 'plugin', pass: 'secret'}`); `false`: no AUTH. */
  auth?: { user: string; pass: string } | false;
  /** Listen on this port (default: any free one), e.g. to come back on the same port. */
  port?: number;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo: string;
  references: string[];
  /** Raw header lines, lower-cased names. */
  headers: Map<string, string>;
  parsed: ParsedMail;
}

let certificate: Promise<{ key: string; cert: string }> | undefined;
function testCertificate() {
  certificate ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  } as never).then((pems: { private: string; cert: string }) => ({ key: pems.private, cert: pems.cert }));
  return certificate;
}

export class TestSmtpServer {
  readonly mails: ReceivedMail[] = [];
  /** Sessions that failed to authenticate. */
  authFailures = 0;
  /** When set, `RCPT TO` of these addresses is refused with a permanent 550. */
  readonly refuse = new Set<string>();
  readonly caPem: string;
  readonly options: Required<Omit<TestSmtpServerOptions, 'port'>>;
  #server: SMTPServer;
  port = 0;
  readonly host = '127.0.0.1';

  private constructor(options: TestSmtpServerOptions, pems: { key: string; cert: string }) {
    this.options = { starttls: options.starttls ?? true, implicitTls: options.implicitTls ?? false, auth: options.auth ?? { user: 'plugin', pass: 'secret' } };
    this.caPem = pems.cert;
    this.#server = this.#create(pems);
  }

  static async start(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
    const server = new TestSmtpServer(options, await testCertificate());
    await server.#listen(options.port ?? 0);
    return server;
  }

  #create(pems: { key: string; cert: string }): SMTPServer {
    const auth = this.options.auth;
    return new SMTPServer({
      secure: this.options.implicitTls,
      key: pems.key,
      cert: pems.cert,
      authOptional: !auth,
      // A server without STARTTLS neither advertises nor accepts it.
      disabledCommands: [...(auth ? [] : ['AUTH']), ...(this.options.starttls || this.options.implicitTls ? [] : ['STARTTLS'])],
      // Like most servers: credentials only over TLS (unless the test allows plaintext).
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (a, _session, cb) => {
        if (auth && a.username === auth.user && a.password === auth.pass) return cb(null, { user: a.username });
        this.authFailures++;
        const err = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
        cb(err);
      },
      onRcptTo: (address, _session, cb) => {
        if (this.refuse.has(address.address)) return cb(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
        cb();
      },
      onData: (stream, session, cb) => {
        simpleParser(stream)
          .then((parsed) => {
            const refs = parsed.references;
            this.mails.push({
              from: parsed.from?.value[0]?.address ?? '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              inReplyTo: parsed.inReplyTo ?? '',
              references: Array.isArray(refs) ? refs : refs ? [refs] : [],
              headers: new Map(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()])),
              parsed,
            });
            cb();
          })
          .catch(cb);
      },
    });
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.host, () => resolve());
    });
    this.port = ((this.#server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  }

  /** Stops listening (clients get connection refused) until `restart()`. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    this.#server = this.#create(await testCertificate());
    await this.#listen(this.port);
  }

  async close(): Promise<void> {
    await this.stop().catch(() => {});
  }

  mailsTo(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  /** What the recipients received, grouped by thread: the first mail, then its follow-ups. */
  transcript(): string {
    const lines: string[] = [];
    const roots = this.mails.filter((m) => !m.inReplyTo);
    for (const root of roots) {
      const to = root.to.join(', ');
      lines.push(`to ${to}: "${root.subject}" — ${root.text.split('\n')[0]}`);
      for (const reply of this.mails.filter((m) => m.inReplyTo === root.messageId && m.to.join(', ') === to)) {
        const line = reply.text.split('\n').find((l) => l.startsWith('Status:')) ?? reply.text.split('\n').slice(0, 2).join(' ');
        lines.push(`to ${to}:   ↳ in thread: ${line.trim()}`);
      }
    }
    return lines.join('\n');
  }
}
