/**
 * Live counters of a running plugin, readable at any time (tests, the benchmark, `/metrics`).
 * Each increment is mirrored into the Prometheus registry when one is attached.
 */
import type { PluginMetrics } from './metrics.js';

/** What a message operation was, for the `operation` label. */
export type MessageOperation = 'send' | 'update' | 'reply' | 'notify';

export class PluginStats {
  /** Watch events received (catch-up and recheck events not included). */
  eventsReceived = 0;
  /** Events handled, including catch-up ones. */
  eventsHandled = 0;
  messagesSent = 0;
  messagesUpdated = 0;
  repliesSent = 0;
  requesterNotifications = 0;
  /** Failed channel calls of any operation. */
  messagesFailed = 0;
  /** Times the event stream was re-opened after it ended. */
  reconnects = 0;
  /** Catch-up passes run (one per (re)connection). */
  catchUps = 0;
  handlerMsTotal = 0;
  handlerMsMax = 0;
  /** Memory given back after a burst (`memory-trim.ts`). */
  memoryTrims = 0;

  constructor(
    readonly channel: string,
    readonly metrics?: PluginMetrics,
  ) {}

  /** Mean handler time in ms. */
  get handlerMsMean(): number {
    return this.eventsHandled ? this.handlerMsTotal / this.eventsHandled : 0;
  }

  event(kind: string, operation: string): void {
    this.eventsReceived++;
    this.metrics?.eventsReceived.inc({ kind, operation });
  }

  handled(ms: number): void {
    this.eventsHandled++;
    this.handlerMsTotal += ms;
    if (ms > this.handlerMsMax) this.handlerMsMax = ms;
    this.metrics?.handlerSeconds.observe(ms / 1000);
  }

  succeeded(operation: MessageOperation): void {
    if (operation === 'send') this.messagesSent++;
    else if (operation === 'update') this.messagesUpdated++;
    else if (operation === 'reply') this.repliesSent++;
    else this.requesterNotifications++;
    this.metrics?.messagesSent.inc({ channel: this.channel, operation });
  }

  failed(operation: MessageOperation): void {
    this.messagesFailed++;
    this.metrics?.messagesFailed.inc({ channel: this.channel, operation });
  }

  reconnected(): void {
    this.reconnects++;
    this.metrics?.watchReconnects.inc();
  }

  ready(isReady: boolean): void {
    this.metrics?.ready.set(isReady ? 1 : 0);
  }
}
