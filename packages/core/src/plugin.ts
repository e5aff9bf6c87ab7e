/**
 * `createPlugin`: the whole access-request flow of one channel — connect to Teleport, build the
 * channel's messenger, check its health, then watch access requests and drive each through the
 * state machine (`engine-handler.ts`) via a per-request queue (`keyed-queue.ts`).
 *
 * Lifecycle (Teleport's `BaseApp.Run`): `start()` resolves once the watcher is connected
 * (`Plugin is ready`); `stop()` stops watching, lets in-flight handlers finish within the
 * timeout, then releases what the plugin opened; `done` resolves after `stop()` and rejects
 * when the watcher fails for good (the CLI then exits 1).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { sleep } from './backoff.js';
import type { ChannelApiMetrics, ChannelDefinition, Messenger } from './channel.js';
import type { PluginConfig } from './config-types.js';
import { RuleRecipients } from './engine-amr.js';
import { RequestHandler } from './engine-handler.js';
import { PluginStats } from './engine-stats.js';
import { PluginError } from './errors.js';
import type { Readiness } from './http-server.js';
import { DEFAULT_MAX_CONCURRENCY, KeyedQueue } from './keyed-queue.js';
import { IdleMemoryTrimmer, type MemoryTrimOptions } from './memory-trim.js';
import type { PluginMetrics } from './metrics.js';
import { channelMessageCodec } from './plugin-data-codecs.js';
import type { Plugin, PluginDeps } from './plugin-types.js';
import { OpenRequests, reconcile } from './reconcile.js';
import { DEFAULT_CLAIM_LEASE_MS, RequestStateStore } from './request-state.js';
import { type RecipientSource, Router } from './routing.js';
import { connectTeleport } from './teleport/connect.js';
import type { TeleportClient } from './teleport/client.js';
import type { PingInfo, WatchEvent } from './teleport/types.js';
import { Watcher, parseFailFast } from './watcher.js';

/** Go's init timeout: connect, Ping, build the messenger and check its health. */
export const INIT_TIMEOUT_MS = 10_000;
/** Handler timeout when the channel does not set one (Go: 5 s; email and msteams 15 s). */
export const DEFAULT_HANDLER_TIMEOUT_MS = 5_000;
/** Graceful stop budget (Go's `PluginShutdownTimeout`). */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;
export const DEFAULT_MIN_SERVER_VERSION = '6.1.0-beta.1';

const WATCH_KINDS = ['access_request', 'access_monitoring_rule'];

/** The channel could not be reached or refused the credentials at startup. */
export class HealthCheckError extends PluginError {
  readonly code = 'ERR_CHANNEL_API';
}

/** `PluginDeps` plus engine knobs used by tests, the benchmark and the CLI. */
export interface EngineDeps extends PluginDeps {
  /** Prometheus registry to mirror counters into. */
  metrics?: PluginMetrics;
  /** Written as `claimed_by`; default `<hostname>/<pid>/<random>`. */
  instanceId?: string;
  /** Age after which an unfinished claim of another instance is taken over. Default 60 000 ms. */
  claimLeaseMs?: number;
  /** Events accepted at once (running + queued). Default 128. */
  maxConcurrency?: number;
  /** Overrides the channel's handler timeout. */
  handlerTimeoutMs?: number;
  /** Environment for `TELEPORT_PLUGIN_FAIL_FAST`; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Extra recipient sources consulted before Access Monitoring Rules and static routing. */
  recipientSources?: RecipientSource[];
  /** List access requests after every (re)connection (default true). */
  catchUp?: boolean;
  /** How long a new watch stream may take to deliver INIT (default 15 000 ms). */
  watchInitTimeoutMs?: number;
  /** Returning memory after a burst (`memory-trim.ts`); `false` turns it off. */
  memoryTrim?: MemoryTrimOptions | false;
}

/** A running plugin with its live counters. */
export interface EnginePlugin extends Plugin {
  readonly stats: PluginStats;
  /** This instance's id in `claimed_by`. */
  readonly instanceId: string;
  /** For `/readyz`. */
  readiness(): Readiness;
}

export function createPlugin<Section>(channel: ChannelDefinition<Section>, config: PluginConfig<Section>, deps: EngineDeps = {}): EnginePlugin {
  return new RunningPlugin(channel, config, deps);
}

interface Started {
  client: TeleportClient;
  messenger: Messenger;
  watcher: Watcher;
  queue: KeyedQueue;
}

class RunningPlugin<Section> implements EnginePlugin {
  readonly stats: PluginStats;
  readonly instanceId: string;
  readonly done: Promise<void>;
  readonly #channel: ChannelDefinition<Section>;
  readonly #config: PluginConfig<Section>;
  readonly #deps: EngineDeps;
  readonly #log: Logger;
  /** Stops reading events and waiting for queue room. */
  readonly #stopping = new AbortController();
  /** Aborts in-flight handlers once the stop budget is spent. */
  readonly #hardStop = new AbortController();
  /** One controller per event being handled; all aborted by the hard stop. */
  readonly #running = new Set<AbortController>();
  readonly #openRequests = new OpenRequests();
  readonly #trimmer: IdleMemoryTrimmer | undefined;
  readonly #rechecks = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #resolveDone!: () => void;
  #rejectDone!: (err: unknown) => void;
  #started: Started | undefined;
  #startCalled = false;
  #ready = false;
  #stopPromise: Promise<void> | undefined;
  #catchUp: AbortController | undefined;

  constructor(channel: ChannelDefinition<Section>, config: PluginConfig<Section>, deps: EngineDeps) {
    this.#channel = channel;
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.log ?? pino({ base: { plugin: channel.name } }, pino.destination(2));
    this.instanceId = deps.instanceId ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.stats = new PluginStats(channel.name, deps.metrics);
    if (deps.memoryTrim !== false) {
      const options = deps.memoryTrim ?? {};
      this.#trimmer = new IdleMemoryTrimmer({
        ...options,
        onTrim: (ms) => {
          this.stats.memoryTrims++;
          this.#log.debug({ duration_ms: Math.round(ms) }, 'Returned unused memory after a burst');
          options.onTrim?.(ms);
        },
      });
    }
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  readiness(): Readiness {
    if (this.#stopping.signal.aborted) return { ready: false, reason: 'stopping' };
    if (!this.#ready) return { ready: false, reason: 'starting' };
    if (!this.#started?.watcher.connected) return { ready: false, reason: 'reconnecting to Teleport' };
    return { ready: true };
  }

  async start(): Promise<void> {
    if (this.#startCalled) throw new Error('plugin already started');
    this.#startCalled = true;
    try {
      this.#started = await this.#init();
      await this.#started.watcher.ready;
    } catch (err) {
      await this.#release();
      this.#rejectDone(err);
      throw err;
    }
    this.#ready = true;
    this.stats.ready(true);
    this.#log.info('Plugin is ready');
    // Startup leaves garbage behind too (protos, TLS, module loading): trim once it is quiet.
    this.#trimmer?.activity();
    this.#started.watcher.done.then(
      () => {},
      async (err) => {
        this.#ready = false;
        this.stats.ready(false);
        this.#stopping.abort();
        this.#abortRunning();
        await this.#release();
        this.#rejectDone(err);
      },
    );
  }

  async #init(): Promise<Started> {
    const deps = this.#deps;
    const log = this.#log;
    const env = deps.env ?? process.env;
    const failFast = parseFailFast(env);
    const initSignal = AbortSignal.any([AbortSignal.timeout(INIT_TIMEOUT_MS), this.#stopping.signal]);

    let client: TeleportClient;
    let ping: PingInfo;
    if (deps.client) {
      client = deps.client;
      ping = await client.ping(initSignal);
    } else {
      ({ client, ping } = await connectTeleport(this.#config.teleport, {
        log,
        minServerVersion: this.#channel.minServerVersion ?? DEFAULT_MIN_SERVER_VERSION,
        env,
        signal: initSignal,
      }));
    }
    // Kept so a failure below still closes what was opened.
    this.#started = { client } as Started;

    const webProxyUrl = ping.advancedAccessWorkflows && ping.proxyPublicAddr ? safeUrl(ping.proxyPublicAddr) : undefined;
    const messenger =
      deps.messenger ??
      this.#channel.createMessenger(this.#config.section, { pluginName: this.#channel.name, clusterName: ping.clusterName, webProxyUrl, log, apiMetrics: channelApiMetrics(this.#channel.name, this.#deps.metrics) });
    this.#started.messenger = messenger;
    try {
      await messenger.checkHealth(AbortSignal.any([AbortSignal.timeout(INIT_TIMEOUT_MS), this.#stopping.signal]));
    } catch (err) {
      throw new HealthCheckError(`API health check failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }

    const rules = new RuleRecipients({ client, pluginName: this.#channel.name, log });
    const router = new Router({
      recipients: this.#config.roleToRecipients,
      messenger,
      displayName: this.#channel.displayName,
      alsoSendToRequester: this.#channel.alsoSendToRequester,
      sources: [...(deps.recipientSources ?? []), rules],
    });
    const store = new RequestStateStore({
      client,
      pluginName: this.#channel.name,
      layout: { keys: this.#channel.pluginData?.keys ?? 'full', codec: this.#channel.pluginData?.codec ?? channelMessageCodec },
    });
    const handler = new RequestHandler({
      client,
      messenger,
      store,
      router,
      view: { ping },
      stats: this.stats,
      instanceId: this.instanceId,
      claimLeaseMs: deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS,
      openRequests: this.#openRequests,
      scheduleRecheck: (id, at) => this.#scheduleRecheck(id, at),
      stopping: this.#stopping.signal,
      hardStop: this.#hardStop.signal,
      onRuleEvent: (event, eventLog) => rules.handleEvent(event, eventLog),
    });
    const queue = new KeyedQueue({
      limit: deps.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      onError: (err, key) => log.error({ err, key }, 'Event handler failed'),
    });
    const handlerTimeoutMs = deps.handlerTimeoutMs ?? this.#channel.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
    const dispatch = (event: WatchEvent) =>
      queue.push(
        eventKey(event),
        async () => {
          const started = performance.now();
          // One controller and one cleared timer per event: AbortSignal.timeout/any would leave a
          // live timer and signal behind for every event until it fires.
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(new Error(`handler timed out after ${handlerTimeoutMs} ms`)), handlerTimeoutMs);
          // A set rather than one listener per event on the hard-stop signal: adding and removing
          // listeners walks the signal's list, which holds up to 128 of them.
          if (this.#hardStop.signal.aborted) controller.abort(this.#hardStop.signal.reason);
          this.#running.add(controller);
          try {
            await handler.handle(event, log, controller.signal);
          } finally {
            clearTimeout(timer);
            this.#running.delete(controller);
          }
          this.stats.handled(performance.now() - started);
          this.#trimmer?.activity();
        },
        this.#stopping.signal,
      );
    this.#dispatch = dispatch;

    const watcher = new Watcher({
      client,
      kinds: WATCH_KINDS,
      log,
      failFast,
      initTimeoutMs: deps.watchInitTimeoutMs,
      onEvent: (event) => {
        this.stats.event(event.type === 'INIT' ? 'init' : event.kind, event.type);
        return dispatch(event);
      },
      onConnected: ({ confirmedKinds, reconnected, rotated }) => {
        if (reconnected && !rotated) this.stats.reconnected();
        if (confirmedKinds && !confirmedKinds.includes('access_monitoring_rule')) {
          log.warn('Failed to watch access_monitoring_rule events. Allow access_monitoring_rule read permissions in the plugin role.');
          rules.disable();
        } else {
          rules.load(this.#stopping.signal);
        }
        if (deps.catchUp !== false) this.#startCatchUp(client, store, dispatch);
      },
    });
    return { client, messenger, watcher, queue };
  }

  #dispatch: ((event: WatchEvent) => Promise<void>) | undefined;

  #startCatchUp(client: TeleportClient, store: RequestStateStore, push: (event: WatchEvent) => Promise<void>): void {
    this.#catchUp?.abort();
    const controller = new AbortController();
    this.#catchUp = controller;
    const signal = AbortSignal.any([controller.signal, this.#stopping.signal]);
    reconcile({ client, store, openRequests: this.#openRequests, push, log: this.#log, signal }).then(
      ({ entriesListed }) => {
        // The cluster lists open entries itself: no need to remember them here.
        this.#openRequests.tracking = !entriesListed;
        this.stats.catchUps++;
      },
      (err) => {
        if (!signal.aborted) this.#log.warn({ err }, 'Failed to catch up on access requests');
      },
    );
  }

  /** Handles a request again at `atMs`, when another instance's claim would run out. */
  #scheduleRecheck(id: string, atMs: number): void {
    if (this.#stopping.signal.aborted) return;
    const existing = this.#rechecks.get(id);
    if (existing && existing.at <= atMs) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#rechecks.delete(id);
      void this.#recheck(id);
    }, Math.max(0, atMs - Date.now()) + 50);
    timer.unref();
    this.#rechecks.set(id, { at: atMs, timer });
  }

  async #recheck(id: string): Promise<void> {
    const started = this.#started;
    if (!started || !this.#dispatch || this.#stopping.signal.aborted) return;
    try {
      const [request] = await started.client.listAccessRequests({ id }, this.#stopping.signal);
      if (request) await this.#dispatch({ type: 'PUT', kind: 'access_request', request, replayed: true });
    } catch (err) {
      if (!this.#stopping.signal.aborted) this.#log.warn({ err, request_id: id }, 'Failed to recheck access request');
    }
  }

  stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    this.#stopPromise ??= this.#stop(timeoutMs);
    return this.#stopPromise;
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#ready = false;
    this.stats.ready(false);
    this.#stopping.abort(new Error('plugin stopping'));
    const started = this.#started;
    if (started?.watcher) {
      started.watcher.stop();
      const idle = started.queue.idle();
      const finished = await raceTimeout(idle.then(() => true), timeoutMs, false);
      if (!finished) {
        this.#log.warn('Graceful shutdown timed out, cancelling in-flight handlers');
        this.#abortRunning(new Error('stop timeout'));
        await raceTimeout(idle, 1000, undefined);
      }
      await started.watcher.done.catch(() => {});
    }
    await this.#release();
    this.#resolveDone();
  }

  /** The hard stop: aborts every handler still running, and the work that checks the signal. */
  #abortRunning(reason?: unknown): void {
    this.#hardStop.abort(reason);
    for (const controller of this.#running) controller.abort(this.#hardStop.signal.reason);
  }

  /** Clears timers and closes what this plugin opened (not what `deps` passed in). */
  async #release(): Promise<void> {
    this.#trimmer?.stop();
    for (const { timer } of this.#rechecks.values()) clearTimeout(timer);
    this.#rechecks.clear();
    this.#catchUp?.abort();
    const started = this.#started;
    this.#started = undefined;
    if (!started) return;
    started.watcher?.stop();
    if (started.messenger && !this.#deps.messenger) await started.messenger.close?.().catch(() => {});
    if (started.client && !this.#deps.client) started.client.close();
  }
}

function channelApiMetrics(channel: string, metrics: PluginMetrics | undefined): ChannelApiMetrics | undefined {
  if (!metrics) return undefined;
  return {
    retried: () => metrics.retries.inc({ channel }),
    rateLimited: (waitMs) => {
      metrics.rateLimitWaits.inc({ channel });
      metrics.rateLimitWaitSeconds.inc({ channel }, waitMs / 1000);
    },
  };
}

/** `work`, or `fallback` after `ms`; the timer is cleared either way so it cannot keep the process alive. */
async function raceTimeout<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  const cancel = new AbortController();
  try {
    const timeout = sleep(ms, cancel.signal).then(
      () => fallback,
      () => fallback,
    );
    return await Promise.race([work, timeout]);
  } finally {
    cancel.abort();
  }
}

/** Per-resource ordering key: `(kind, name)` as Teleport's watcher job. */
export function eventKey(event: WatchEvent): string {
  switch (event.type) {
    case 'INIT':
      return 'init';
    case 'DELETE':
      return `${event.kind}/${event.name}`;
    default:
      return event.kind === 'access_request' ? `access_request/${event.request.id}` : event.kind === 'access_monitoring_rule' ? `access_monitoring_rule/${event.rule.name}` : `unknown/${event.name}`;
  }
}

function safeUrl(addr: string): URL | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(addr) ? addr : `https://${addr}`);
    return new URL(url.origin);
  } catch {
    return undefined;
  }
}
