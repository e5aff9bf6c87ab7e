/**
 * `refresh_identity`: notices a rewritten identity file (a directory watch — tbot replaces
 * files by rename — with a poll every `refresh_identity_interval` as a backstop), reloads it,
 * and hands new credentials on only when the certificate actually changed. A failed reload
 * (half-written file) keeps the previous credentials.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { TeleportConfig } from '../config-types.js';
import { loadCredentials, type TlsCredentials } from './credentials.js';

export class IdentityRefresher {
  #timer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: TeleportConfig,
    private current: TlsCredentials,
    private readonly log: Logger,
    private readonly onChange: (creds: TlsCredentials) => void,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.reload(), this.config.refreshIdentityIntervalMs);
    this.#timer.unref();
    try {
      this.#watcher = watch(dirname(this.config.identity!), () => {
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => this.reload(), 100);
        this.#debounce.unref();
      });
      this.#watcher.unref();
    } catch (err) {
      this.log.debug({ err }, 'Cannot watch the identity file; relying on the periodic reload');
    }
  }

  /** Re-reads the file; returns true when new credentials were handed on. */
  reload(): boolean {
    let next: TlsCredentials;
    try {
      next = loadCredentials(this.config);
    } catch (err) {
      this.log.error({ error: (err as Error).message }, 'Failed to reload identity file from disk.');
      return false;
    }
    if (next.serial === this.current.serial && next.certPem === this.current.certPem) return false;
    this.current = next;
    this.log.info({ expires: next.notAfter.toISOString() }, 'Reloaded the identity file: new connections use the new certificate');
    this.onChange(next);
    return true;
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }
}
