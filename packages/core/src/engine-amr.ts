/**
 * Access Monitoring Rules as a recipient source (Teleport v18 `accessmonitoring.RuleHandler`).
 *
 * The cache holds the rules that apply to this plugin — `spec.notification.name` equals the
 * plugin name and `spec.subjects` contains `access_request` — filled by listing when the watch
 * confirmed the `access_monitoring_rule` kind, then kept current by watch events (a PUT of a
 * rule that no longer applies removes it). For a new request, every cached rule's condition is
 * evaluated (`engine-amr-expression.ts`); the recipients of all matching rules are unioned. A
 * condition that cannot be evaluated counts as no match, with a warning.
 */
import type { Logger } from 'pino';
import { type ExpressionEnv, evaluateCondition, usesUserTraits } from './engine-amr-expression.js';
import type { RecipientSource } from './routing.js';
import type { TeleportClient } from './teleport/client.js';
import type { AccessMonitoringRule, AccessRequest, WatchEvent } from './teleport/types.js';

export interface RuleRecipientsOptions {
  client: TeleportClient;
  pluginName: string;
  log: Logger;
}

export class RuleRecipients implements RecipientSource {
  readonly #o: RuleRecipientsOptions;
  readonly #rules = new Map<string, AccessMonitoringRule>();
  #enabled = false;
  /** Settles when the latest listing has been applied; routing waits for it. */
  #loading: Promise<void> = Promise.resolve();
  /** Rule events seen while a listing is in flight, replayed over its (older) result. */
  #duringLoad: WatchEvent[] | undefined;

  constructor(options: RuleRecipientsOptions) {
    this.#o = options;
  }

  /** Rules currently cached, by name. */
  get rules(): ReadonlyMap<string, AccessMonitoringRule> {
    return this.#rules;
  }

  applies(rule: AccessMonitoringRule): boolean {
    return rule.notification?.name === this.#o.pluginName && rule.subjects.includes('access_request');
  }

  /** (Re)fills the cache by listing; failures are logged and leave the cache as it was. */
  load(signal?: AbortSignal): void {
    this.#enabled = true;
    const seen: WatchEvent[] = [];
    this.#duringLoad = seen;
    this.#loading = this.#o.client.listAccessMonitoringRules(this.#o.pluginName, signal).then(
      (rules) => {
        this.#rules.clear();
        for (const rule of rules) if (this.applies(rule)) this.#rules.set(rule.name, rule);
        for (const event of seen) this.#apply(event);
      },
      (err) => {
        if (!signal?.aborted) this.#o.log.warn({ err }, 'Failed to list access monitoring rules');
      },
    ).finally(() => {
      if (this.#duringLoad === seen) this.#duringLoad = undefined;
    });
  }

  /** The watch did not confirm the kind (no permission): rules are off. */
  disable(): void {
    this.#enabled = false;
    this.#rules.clear();
  }

  handleEvent(event: WatchEvent, _log: Logger): void {
    this.#duringLoad?.push(event);
    this.#apply(event);
  }

  #apply(event: WatchEvent): void {
    if (event.type === 'PUT' && event.kind === 'access_monitoring_rule') {
      if (this.applies(event.rule)) this.#rules.set(event.rule.name, event.rule);
      else this.#rules.delete(event.rule.name);
    } else if (event.type === 'DELETE') {
      this.#rules.delete(event.name);
    }
  }

  async recipientsFor(request: AccessRequest, signal: AbortSignal): Promise<string[]> {
    await this.#loading;
    if (!this.#enabled || this.#rules.size === 0) return [];
    const rules = [...this.#rules.values()];
    let traits: Record<string, string[]> = {};
    if (rules.some((r) => usesUserTraits(r.condition))) {
      try {
        traits = (await this.#o.client.getUser(request.user, signal)).traits;
      } catch (err) {
        this.#o.log.warn({ err }, 'Missing permissions to read user.traits, please add user.read to the associated role');
      }
    }
    const env = requestEnv(request, traits);
    const out = new Set<string>();
    for (const rule of rules) {
      let match = false;
      try {
        match = evaluateCondition(rule.condition, env);
      } catch (err) {
        this.#o.log.warn({ err, rule: rule.name }, 'Failed to parse access monitoring notification rule');
      }
      if (match) for (const r of rule.notification?.recipients ?? []) out.add(r);
    }
    return [...out];
  }
}

/** The variables a condition can read about a request. */
export function requestEnv(request: AccessRequest, traits: Record<string, string[]>): ExpressionEnv {
  const env: ExpressionEnv = {
    'access_request.spec.roles': request.roles,
    'access_request.spec.suggested_reviewers': request.suggestedReviewers,
    'access_request.spec.system_annotations': request.systemAnnotations,
    'access_request.spec.user': request.user,
    'access_request.spec.request_reason': request.requestReason,
    'user.traits': traits,
  };
  if (request.created) env['access_request.spec.creation_time'] = request.created;
  if (request.expires) env['access_request.spec.expiry'] = request.expires;
  return env;
}
