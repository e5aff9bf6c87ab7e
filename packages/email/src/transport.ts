/** What the email messenger needs from a delivery method (SMTP or Mailgun). */
import type { ChannelApiMetrics, ChannelContext } from '@tap/core';
import type { MailContent } from './format.js';

export interface OutgoingMail extends MailContent {
  to: string;
  /** The Message-ID to set, without angle brackets (SMTP). */
  messageId?: string;
  /** The thread's first Message-ID, without angle brackets: sets In-Reply-To and References. */
  inReplyTo?: string;
}

export interface TransportOptions {
  log: ChannelContext['log'];
  metrics?: ChannelApiMetrics;
  /** First retry backoff in ms (tests shorten it). */
  backoffBaseMs?: number;
}

export interface MailTransport {
  /** `SMTP host:port (STARTTLS mandatory)` or `Mailgun domain (https://…)`. */
  describe(): string;
  /** Proves the credentials work; returns one line per step. */
  check(signal: AbortSignal): Promise<string[]>;
  /** Sends one mail; returns its Message-ID without angle brackets. */
  send(mail: OutgoingMail, signal: AbortSignal): Promise<string>;
  close?(): Promise<void>;
}
