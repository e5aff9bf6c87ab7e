/**
 * A short-lived memo of role and user look-ups for message data. A burst of requests (a
 * catch-up backlog, a team asking at once) names the same few roles and users; asking Teleport
 * once per burst instead of once per request keeps the announcement path to the plugin-data
 * writes. Entries live `ttlMs` (roles and traits change rarely, and a message shows them as of
 * its request); failures are not kept; concurrent asks share one call.
 */
import type { TeleportClient } from './teleport/client.js';
import type { RoleInfo, UserInfo } from './teleport/types.js';

export type Lookups = Pick<TeleportClient, 'getRole' | 'getUser'>;

const MAX_ENTRIES = 1_000;

export class LookupCache implements Lookups {
  readonly #roles = new Map<string, { at: number; value: Promise<RoleInfo> }>();
  readonly #users = new Map<string, { at: number; value: Promise<UserInfo> }>();

  constructor(
    private readonly client: Lookups,
    private readonly ttlMs = 10_000,
  ) {}

  getRole(name: string, signal?: AbortSignal): Promise<RoleInfo> {
    return this.#memo(this.#roles, name, () => this.client.getRole(name, signal));
  }

  getUser(name: string, signal?: AbortSignal): Promise<UserInfo> {
    return this.#memo(this.#users, name, () => this.client.getUser(name, signal));
  }

  #memo<T>(map: Map<string, { at: number; value: Promise<T> }>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (map.size >= MAX_ENTRIES) map.clear();
    const value = load();
    const entry = { at: now, value };
    map.set(key, entry);
    value.catch(() => {
      if (map.get(key) === entry) map.delete(key);
    });
    return value;
  }
}
