/**
 * Runs a real plugin (`createPlugin`) against a sandbox Teleport Auth server for a test: writes
 * an identity file for a plugin user, builds the config the CLI would, and starts the plugin.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { ChannelDefinition, Messenger, RecipientsMap } from '../channel.js';
import type { PluginConfig } from '../config-types.js';
import { createPlugin, type EngineDeps, type EnginePlugin } from '../plugin.js';
import { RecordingMessenger } from './recording-messenger.js';
import type { SandboxHandle } from './sandbox-handle.js';

/** A channel whose messenger records calls (plugin name `test` unless given). */
export function recordingChannel(name = 'test', messenger?: Messenger): ChannelDefinition<Record<string, never>> {
  return {
    name,
    displayName: 'Test',
    version: '0.0.0',
    exampleConfig: '',
    sections: [],
    parseConfig: () => ({}),
    createMessenger: () => messenger ?? new RecordingMessenger(),
  };
}

/** Log lines captured from a plugin, as parsed pino objects. */
export class CapturedLog {
  readonly lines: Array<Record<string, unknown> & { msg?: string; level?: number }> = [];
  readonly logger: Logger;
  constructor(level = 'debug') {
    this.logger = pino(
      { level },
      new Writable({
        write: (chunk, _enc, cb) => {
          for (const line of String(chunk).split('\n')) if (line) this.lines.push(JSON.parse(line));
          cb();
        },
      }),
    );
  }
  /** Lines whose message equals (string) or matches (RegExp) `msg`. */
  find(msg: string | RegExp): Array<Record<string, unknown>> {
    return this.lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  }
  has(msg: string | RegExp): boolean {
    return this.find(msg).length > 0;
  }
}

export interface TestPluginOptions<Section> {
  sandbox: SandboxHandle;
  /** Default: `recordingChannel()` with `messenger`. */
  channel?: ChannelDefinition<Section>;
  /** The channel's parsed section (default `{}`). */
  section?: Section;
  /** Replaces the channel's messenger; default a new RecordingMessenger when no channel is given. */
  messenger?: Messenger;
  recipients?: RecipientsMap;
  /** `[teleport] addr` (default the sandbox's Auth address), e.g. a sandbox Proxy's. */
  addr?: string;
  /** Teleport user the plugin signs in as (default `access-plugin`). */
  user?: string;
  /** Roles of that user (default `["access-plugin"]`). */
  roles?: string[];
  /** Engine knobs (instance id, lease, concurrency, env, …). */
  deps?: EngineDeps;
  /** `[teleport] refresh_identity`. */
  refreshIdentity?: boolean;
  refreshIdentityIntervalMs?: number;
  /** Reuse this identity file instead of writing a new one. */
  identityPath?: string;
  /** Do not wait for `start()` (for tests of start failures). */
  noStart?: boolean;
}

export interface TestPlugin<Section> {
  plugin: EnginePlugin;
  /** The messenger in use when one was given or defaulted (else undefined: the channel's own). */
  messenger: Messenger | undefined;
  /** Convenience: `messenger` when it is a RecordingMessenger. */
  recording: RecordingMessenger | undefined;
  config: PluginConfig<Section>;
  log: CapturedLog;
  identityPath: string;
  /** Stops the plugin (graceful) and removes its temp files. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Writes an identity, builds the config and starts a plugin against the sandbox. */
export async function startTestPlugin<Section = Record<string, never>>(options: TestPluginOptions<Section>): Promise<TestPlugin<Section>> {
  const dir = await mkdtemp(join(tmpdir(), 'tap-plugin-'));
  const identityPath = options.identityPath ?? join(dir, 'auth_id');
  if (!options.identityPath) {
    await options.sandbox.writeIdentity(identityPath, { user: options.user ?? 'access-plugin', roles: options.roles ?? ['access-plugin'] });
  }
  const messenger = options.messenger ?? (options.channel ? undefined : new RecordingMessenger());
  const channel = (options.channel ?? recordingChannel('test', messenger)) as ChannelDefinition<Section>;
  const config: PluginConfig<Section> = {
    file: join(dir, 'teleport-test.toml'),
    teleport: {
      addr: options.addr ?? options.sandbox.authAddr,
      identity: identityPath,
      refreshIdentity: options.refreshIdentity ?? false,
      refreshIdentityIntervalMs: options.refreshIdentityIntervalMs ?? 60_000,
    },
    log: { output: 'stderr', severity: 'debug', format: 'json' },
    http: {},
    roleToRecipients: options.recipients ?? { '*': ['#all'] },
    section: options.section ?? ({} as Section),
    warnings: [],
  };
  const log = new CapturedLog();
  const plugin = createPlugin(channel, config, { log: log.logger, ...(messenger ? { messenger } : {}), ...options.deps });
  const stop = async (timeoutMs?: number) => {
    await plugin.stop(timeoutMs);
    await rm(dir, { recursive: true, force: true });
  };
  if (!options.noStart) {
    try {
      await plugin.start();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  return {
    plugin,
    messenger,
    recording: messenger instanceof RecordingMessenger ? messenger : undefined,
    config,
    log,
    identityPath,
    stop,
  };
}

/** Polls `probe` until it returns a truthy value (returned), or throws after `timeoutMs`. */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
