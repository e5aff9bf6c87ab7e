/**
 * Who gets a message about a request (Teleport's `getMessageRecipients`):
 *
 * 1. Recipient sources (Access Monitoring Rules) first: if any returns names, those alone are used.
 * 2. Otherwise `role_to_recipients`: for each requested role its list, or the `"*"` list when the
 *    role is missing or its list is empty; unioned, plus the suggested reviewers that are plain
 *    email addresses (Go's `lib.IsEmail`).
 * 3. Each raw name is resolved by the channel; failures are logged and skipped; the result is
 *    deduplicated on the resolved id (an email and a channel that resolve alike are sent once).
 * 4. Channels that also message the requester (Slack) get the requester added.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Messenger, Recipient, RecipientsMap } from './channel.js';
import type { AccessRequest } from './teleport/types.js';

/**
 * A source of recipients that overrides static routing when it returns any names, e.g.
 * Access Monitoring Rules. Returning `[]` means "no opinion".
 */
export interface RecipientSource {
  recipientsFor(request: AccessRequest, signal: AbortSignal): Promise<string[]>;
}

/** The raw recipient names for some roles: per role its list, else `"*"`; union, deduplicated, in order. */
export function rawRecipientsFor(map: RecipientsMap, roles: readonly string[], suggestedReviewers: readonly string[] = []): string[] {
  const out = new Set<string>();
  for (const role of roles) {
    const list = map[role]?.length ? map[role]! : (map['*'] ?? []);
    for (const name of list) out.add(name);
  }
  for (const name of suggestedReviewers) out.add(name);
  return [...out];
}

/** Every name in the map (msteams `preload` and `uninstall`). */
export function allRawRecipients(map: RecipientsMap): string[] {
  return [...new Set(Object.values(map).flat())];
}

// RFC 5322 atext (printable ASCII minus specials) plus any non-ASCII character, as Go's net/mail.
const ATOM = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\uFFFF]+";
const DOT_ATOM = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
/** Invalid UTF-16 (Go rejects invalid UTF-8). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Go's `lib.IsEmail`: `net/mail.ParseAddress(s)` succeeds and its address equals `s`. So only a
 * bare `local@domain` of dot-atoms (or a domain literal) passes: no display name, no angle
 * brackets, no quotes, no surrounding spaces.
 */
export function isEmail(s: string): boolean {
  if (LONE_SURROGATE.test(s)) return false;
  const at = s.lastIndexOf('@');
  if (at <= 0) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (!DOT_ATOM.test(local)) return false;
  if (domain.startsWith('[') && domain.endsWith(']')) return isIP(domain.slice(1, -1)) !== 0;
  return DOT_ATOM.test(domain);
}

export interface RouterOptions {
  recipients: RecipientsMap;
  messenger: Messenger;
  /** Channel name for log texts ("Slack"). */
  displayName: string;
  /** Also message the requester (Slack). */
  alsoSendToRequester?: boolean;
  sources?: RecipientSource[];
}

export class Router {
  readonly #options: RouterOptions;

  constructor(options: RouterOptions) {
    this.#options = options;
  }

  /** The resolved recipients of a new request, deduplicated on id. */
  async route(request: AccessRequest, log: Logger, signal: AbortSignal): Promise<Recipient[]> {
    let names: string[] = [];
    for (const source of this.#options.sources ?? []) {
      names.push(...(await source.recipientsFor(request, signal)));
    }
    names = [...new Set(names)];
    let recipients: Recipient[];
    if (names.length > 0) {
      recipients = await this.resolve(names, log, signal, 'Failed to fetch plugin recipients based on Access monitoring rule recipients');
    } else {
      const reviewers = request.suggestedReviewers.filter((reviewer) => {
        if (isEmail(reviewer)) return true;
        log.warn({ reviewer }, 'Failed to notify a suggested reviewer with an invalid email address');
        return false;
      });
      names = rawRecipientsFor(this.#options.recipients, request.roles, reviewers);
      recipients = await this.resolve(names, log, signal);
    }
    if (this.#options.alsoSendToRequester && request.user) {
      try {
        const requester = await this.#options.messenger.resolveRecipient(request.user, signal);
        recipients = dedupeById([...recipients, requester]);
      } catch (err) {
        log.warn({ err }, `Unable to find user ${request.user} in ${this.#options.displayName}, will not be able to notify.`);
      }
    }
    return recipients;
  }

  /** Resolves raw names through the channel; failures are logged and skipped. */
  async resolve(names: readonly string[], log: Logger, signal: AbortSignal, failureText = 'Failure when fetching recipient, continuing anyway'): Promise<Recipient[]> {
    const settled = await Promise.allSettled(names.map((name) => this.#options.messenger.resolveRecipient(name, signal)));
    const out: Recipient[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') out.push(result.value);
      else log.warn({ err: result.reason, recipient: names[i] }, failureText);
    });
    return dedupeById(out);
  }
}

/** Keeps the first recipient of each id. */
export function dedupeById(recipients: readonly Recipient[]): Recipient[] {
  const seen = new Set<string>();
  return recipients.filter((r) => !seen.has(r.id) && seen.add(r.id));
}
