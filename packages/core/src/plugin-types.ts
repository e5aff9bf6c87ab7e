import type { Logger } from 'pino';
import type { Messenger } from './channel.js';
import type { TeleportClient } from './teleport/client.js';

/** Injection points for tests and the benchmark (Teleport's `Config.Client`). */
export interface PluginDeps {
  /** A connected client; when absent the plugin connects with `config.teleport`. */
  client?: TeleportClient;
  /** Replaces the channel's messenger (recording messenger in tests). */
  messenger?: Messenger;
  log?: Logger;
}

/** A running plugin: `createPlugin(channel, config, deps)` in `plugin.ts`. */
export interface Plugin {
  /** Connects, checks versions and health, starts watching; resolves once "Plugin is ready". */
  start(): Promise<void>;
  /** Graceful stop: stops watching, lets in-flight handlers finish (bounded by `timeoutMs`, default 15 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** Settles when the plugin stops: resolves after `stop()`, rejects on a fatal error. */
  readonly done: Promise<void>;
}
