/**
 * SMTP delivery with nodemailer, dialled as the Go daemon does: a new connection per mail,
 * implicit TLS on port 465, otherwise STARTTLS per `starttls_policy`, AUTH with the configured
 * user, certificates verified (extra CAs from `[smtp] ca_file`, or NODE_EXTRA_CA_CERTS).
 *
 * Beyond Go (which retried only a dropped MAIL FROM once): transient failures — connection
 * refused or reset, timeouts, 4xx replies — are retried with backoff until the handler's
 * deadline, so a mail server restart loses nothing. A permanent 5xx reply fails at once with
 * the server's own words.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import nodemailer from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SmtpSection } from './config.js';
import type { MailTransport, OutgoingMail, TransportOptions } from './transport.js';

const TIMEOUT_MS = 10_000;
/** nodemailer error codes that mean "try again later". */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

export class SmtpTransport implements MailTransport {
  readonly #smtp: SmtpSection;
  readonly #sender: string;
  readonly #o: TransportOptions;

  constructor(smtp: SmtpSection, sender: string, options: TransportOptions) {
    this.#smtp = smtp;
    this.#sender = sender;
    this.#o = options;
  }

  describe(): string {
    const { host, port, starttlsPolicy, implicitTls } = this.#smtp;
    return `SMTP ${host}:${port} (${implicitTls ? 'implicit TLS' : `STARTTLS ${starttlsPolicy}`})`;
  }

  #connection() {
    const { host, port, username, password, starttlsPolicy, implicitTls, caPem } = this.#smtp;
    return {
      host,
      port,
      secure: implicitTls,
      requireTLS: !implicitTls && starttlsPolicy === 'mandatory',
      ignoreTLS: !implicitTls && starttlsPolicy === 'disabled',
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
      // SNI only for names (RFC 6066 forbids IP addresses there).
      tls: { ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: true, ...(caPem ? { ca: caPem } : {}) },
      auth: username ? { user: username, pass: password } : undefined,
    };
  }

  /** Connects, negotiates TLS per policy and authenticates, then quits; returns one line per step. */
  async check(signal: AbortSignal): Promise<string[]> {
    const options = this.#connection();
    const conn = new SMTPConnection({ ...options, auth: undefined } as SMTPConnection.Options);
    const steps: string[] = [];
    try {
      await withSignal(
        new Promise<void>((resolve, reject) => {
          conn.once('error', reject);
          conn.connect((err) => (err ? reject(err) : resolve()));
        }),
        signal,
      );
      steps.push(`connected to ${options.host}:${options.port}`);
      const encrypted = (conn as unknown as { secure: boolean }).secure;
      if (!encrypted && options.requireTLS) {
        throw Object.assign(new Error('MandatoryStartTLS required, but SMTP server does not support STARTTLS'), { code: 'ETLS' });
      }
      steps.push(encrypted ? (options.secure ? 'implicit TLS, certificate verified' : 'STARTTLS negotiated, certificate verified') : 'no TLS (starttls_policy allows plaintext)');
      if (options.auth) {
        await withSignal(new Promise<void>((resolve, reject) => conn.login(options.auth!, (err) => (err ? reject(err) : resolve()))), signal);
        steps.push(`authenticated as ${options.auth.user}`);
      }
      return steps;
    } catch (err) {
      throw this.#explain(err as SmtpError, signal.aborted);
    } finally {
      try {
        conn.quit();
      } catch {
        // already closed
      }
      conn.close();
    }
  }

  async send(mail: OutgoingMail, signal: AbortSignal): Promise<string> {
    const id = mail.messageId ?? newMessageId();
    const backoff = new DecorrelatedBackoff({ baseMs: this.#o.backoffBaseMs ?? 250, capMs: 2_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const transporter = nodemailer.createTransport(this.#connection());
      try {
        await withSignal(
          transporter.sendMail({
            from: this.#sender,
            to: mail.to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            messageId: `<${id}>`,
            ...(mail.inReplyTo ? { inReplyTo: `<${mail.inReplyTo}>`, references: [`<${mail.inReplyTo}>`] } : {}),
          }),
          signal,
        );
        return id;
      } catch (err) {
        const e = err as SmtpError;
        if (signal.aborted || !isTransient(e)) throw this.#explain(e, signal.aborted);
        const delay = backoff.next();
        this.#o.log.warn({ attempt, delay_ms: delay, to: mail.to, err: describe(e) }, 'Sending email failed, retrying');
        this.#o.metrics?.retried();
        await sleep(delay, signal).catch(() => {
          throw this.#explain(e, true);
        });
      } finally {
        transporter.close();
      }
    }
  }

  #explain(e: SmtpError, gaveUp = false): ChannelApiError {
    const { host, port } = this.#smtp;
    let text = describe(e);
    if (e.code === 'EAUTH') text = `authentication failed for ${this.#smtp.username} (check [smtp] username and password): ${text}`;
    else if (/STARTTLS/i.test(e.message) && this.#smtp.starttlsPolicy === 'mandatory') text = `${text}; the server at ${host}:${port} does not offer STARTTLS (starttls_policy = "mandatory")`;
    else if (e.responseCode && e.responseCode >= 500 && /MAIL FROM/i.test(e.command ?? '')) text = `the server refused the sender ${this.#sender}: ${text}`;
    if (gaveUp) text += ' (gave up: deadline reached)';
    return new ChannelApiError(text, { status: e.responseCode, apiError: e.code, recoverable: isTransient(e) }, { cause: e });
  }
}

function isTransient(e: SmtpError): boolean {
  if (e.responseCode) return e.responseCode >= 400 && e.responseCode < 500;
  return TRANSIENT_CODES.has(e.code ?? '') || TRANSIENT_CODES.has((e as { errno?: string }).errno ?? '');
}

/** The server's words when it answered, else the connection problem. */
function describe(e: SmtpError): string {
  if (e.response) return e.response;
  return e.message;
}

/** `<BASE36(ns).BASE36(random)@host>` as Go's SMTP mailer builds it (stored without brackets). */
export function newMessageId(): string {
  const ns = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  const random = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 53)) * 2048n + BigInt(Math.floor(Math.random() * 2048)));
  return `${ns.toString(36).toUpperCase()}.${random.toString(36).toUpperCase()}@${hostname()}`;
}

function withSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(Object.assign(new Error('deadline reached'), { code: 'ETIMEDOUT' }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
