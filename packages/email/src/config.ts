/**
 * The email plugin's sections (Teleport's keys): `[smtp]` or `[mailgun]` (both: SMTP is used,
 * as in Go, with a warning), `[delivery] sender` and the deprecated `[delivery] recipients`.
 * Beyond Go: `sender` is required at load time (Go only failed on the first send),
 * `[mailgun] private_key_file` is read like `password_file`, and EU domains work through
 * `[mailgun] region = "eu"` or `api_base`.
 */
import { readFileSync } from 'node:fs';
import { type ConfigReader, type RecipientsMap, isEmail } from '@tap/core';

export type StartTlsPolicy = 'mandatory' | 'opportunistic' | 'disabled';

export interface SmtpSection {
  host: string;
  port: number;
  username: string;
  /** Never logged. */
  password: string;
  starttlsPolicy: StartTlsPolicy;
  /** TLS from the first byte: `port = 465`, as in Go (STARTTLS and its policy do not apply). */
  implicitTls: boolean;
  /** Extra trusted CA certificates (PEM) from `[smtp] ca_file` (beyond Go). */
  caPem?: string;
}

export interface MailgunSection {
  domain: string;
  /** Never logged. */
  privateKey: string;
  /** `https://api.mailgun.net` (US), `https://api.eu.mailgun.net` (EU) or `api_base`. */
  apiBase: string;
}

export interface EmailSection {
  transport: { kind: 'smtp'; smtp: SmtpSection } | { kind: 'mailgun'; mailgun: MailgunSection };
  /** `From:`; may be `Name <addr>`. */
  sender: string;
  /** `[delivery] recipients` (deprecated), as written. */
  deliveryRecipients: string[];
}

export const MAILGUN_US = 'https://api.mailgun.net';
export const MAILGUN_EU = 'https://api.eu.mailgun.net';
const POLICIES: StartTlsPolicy[] = ['mandatory', 'opportunistic', 'disabled'];

export function parseEmailConfig(reader: ConfigReader): EmailSection {
  const deliveryRecipients = reader.stringList('delivery.recipients') ?? [];
  const sender = reader.string('delivery.sender') ?? '';
  if (!sender) reader.error('delivery.sender', 'missing required value delivery.sender (the From: address, e.g. "Teleport <noreply@example.com>")');
  else if (!isEmail(sender.replace(/^.*<([^>]*)>\s*$/, '$1'))) reader.error('delivery.sender', `"${sender}" is not an email address`);

  const hasSmtp = reader.has('smtp');
  const hasMailgun = reader.has('mailgun');
  if (!hasSmtp && !hasMailgun) {
    reader.error('smtp', 'provide either [mailgun] or [smtp] sections to work with plugin');
    return { transport: { kind: 'smtp', smtp: { host: '', port: 587, username: '', password: '', starttlsPolicy: 'mandatory', implicitTls: false } }, sender, deliveryRecipients };
  }
  const mailgun = hasMailgun ? parseMailgun(reader) : undefined;
  const smtp = hasSmtp ? parseSmtp(reader) : undefined;
  if (smtp && mailgun) reader.warn('mailgun', 'both [smtp] and [mailgun] are set; SMTP is used (as the Go daemon does) and [mailgun] is ignored');
  return { transport: smtp ? { kind: 'smtp', smtp } : { kind: 'mailgun', mailgun: mailgun! }, sender, deliveryRecipients };
}

function readSecretFile(reader: ConfigReader, key: string, path: string, empty: string): string {
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (!value) reader.error(key, empty);
    return value;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reader.error(key, `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
    return '';
  }
}

function parseSmtp(reader: ConfigReader): SmtpSection {
  const host = reader.string('smtp.host') ?? '';
  if (!host) reader.error('smtp.host', 'provide smtp.host to use SMTP');
  const port = reader.integer('smtp.port', { min: 0, max: 65535 }) || 587;
  const username = reader.string('smtp.username') ?? '';
  if (!username) reader.error('smtp.username', 'provide smtp.username to use SMTP');
  let password = reader.string('smtp.password') ?? '';
  const passwordFile = reader.string('smtp.password_file') ?? '';
  if (!password && passwordFile) {
    password = readSecretFile(reader, 'smtp.password_file', passwordFile, `provide smtp.password or smtp.password_file and ensure that password file ${passwordFile} is not empty`);
  } else if (!password) {
    reader.error('smtp.password', 'specify smtp.password or smtp.password_file');
  }
  const policy = reader.string('smtp.starttls_policy') ?? '';
  if (policy && !POLICIES.includes(policy as StartTlsPolicy)) {
    reader.error('smtp.starttls_policy', `invalid smtp.starttls_policy: unsupported starttls_policy "${policy}" - provide one of mandatory, opportunistic, disabled or leave empty to default to mandatory`);
  }
  const caFile = reader.string('smtp.ca_file') ?? '';
  const caPem = caFile ? readSecretFile(reader, 'smtp.ca_file', caFile, `${caFile} holds no certificate`) : undefined;
  return { host, port, username, password, starttlsPolicy: (POLICIES.includes(policy as StartTlsPolicy) ? policy : 'mandatory') as StartTlsPolicy, implicitTls: port === 465, caPem };
}

function parseMailgun(reader: ConfigReader): MailgunSection {
  const domain = reader.string('mailgun.domain') ?? '';
  if (!domain) reader.error('mailgun.domain', 'provide mailgun.domain to use Mailgun');
  let privateKey = reader.string('mailgun.private_key') ?? '';
  const keyFile = reader.string('mailgun.private_key_file') ?? '';
  if (!privateKey && keyFile) {
    privateKey = readSecretFile(reader, 'mailgun.private_key_file', keyFile, `provide mailgun.private_key or mailgun.private_key_file to use Mailgun and ensure that password file ${keyFile} is not empty`);
  } else if (!privateKey) {
    reader.error('mailgun.private_key', 'specify mailgun.private_key or mailgun.private_key_file');
  }
  const region = (reader.string('mailgun.region') ?? '').toLowerCase();
  if (region && region !== 'us' && region !== 'eu') reader.error('mailgun.region', `unsupported region "${region}": use "us" (default) or "eu"`);
  let apiBase = reader.string('mailgun.api_base') ?? (region === 'eu' ? MAILGUN_EU : MAILGUN_US);
  try {
    const url = new URL(apiBase);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    apiBase = apiBase.replace(/\/+$/, '');
  } catch {
    reader.error('mailgun.api_base', `"${apiBase}" is not an http(s) URL (e.g. ${MAILGUN_EU})`);
  }
  return { domain, privateKey, apiBase };
}

/** `[delivery] recipients` stands for `"*"`; every recipient must be an email (Go's texts). */
export function adjustEmailRecipients(map: RecipientsMap, section: EmailSection, reader: ConfigReader): RecipientsMap {
  let out = map;
  if (section.deliveryRecipients.length) {
    if (Object.keys(map).length) {
      reader.error('delivery.recipients', 'provide either delivery.recipients or role_to_recipients, not both');
      return map;
    }
    reader.warn('delivery.recipients', 'deprecated: set role_to_recipients["*"] instead for the same functionality');
    out = { '*': section.deliveryRecipients };
  }
  if (!Object.keys(out).length) {
    reader.error('role_to_recipients', 'missing required value role_to_recipients');
    return out;
  }
  if (!out['*']?.length) reader.error('role_to_recipients', 'missing required value role_to_recipients[*]');
  for (const [role, list] of Object.entries(out)) {
    for (const address of list) if (!isEmail(address)) reader.error(`role_to_recipients.${role}`, `invalid email address ${address} in role_to_recipients.${role}`);
  }
  return out;
}
