/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and
 * histograms with labels. Small on purpose: the plugins export a dozen series.
 */

type Labels = Record<string, string>;

// Plain code-unit order: stable, and unlike localeCompare it needs no ICU data in memory.
const labelKey = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatLabels = (labels: Labels, extra: Labels = {}) => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const formatNumber = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract samples(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n');
  }
}

export class Counter extends Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels))?.value ?? 0;
  }
  samples(): string[] {
    return [...this.#values.values()].map((e) => `${this.name}${formatLabels(e.labels)} ${formatNumber(e.value)}`);
  }
}

export class Gauge extends Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), { labels, value });
  }
  get(labels: Labels = {}): number | undefined {
    return this.#values.get(labelKey(labels))?.value;
  }
  samples(): string[] {
    return [...this.#values.values()].map((e) => `${this.name}${formatLabels(e.labels)} ${formatNumber(e.value)}`);
  }
}

export class Histogram extends Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly buckets: number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ) {
    super(name, help, 'histogram');
  }
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    const s = this.#series.get(key) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
    this.#series.set(key, s);
  }
  samples(): string[] {
    return [...this.#series.values()].flatMap((s) => [
      ...this.buckets.map((b, i) => `${this.name}_bucket${formatLabels(s.labels, { le: String(b) })} ${s.counts[i]}`),
      `${this.name}_bucket${formatLabels(s.labels, { le: '+Inf' })} ${s.count}`,
      `${this.name}_sum${formatLabels(s.labels)} ${formatNumber(s.sum)}`,
      `${this.name}_count${formatLabels(s.labels)} ${s.count}`,
    ]);
  }
}

/** The series every plugin exports (see docs/deploy.md). One instance per running plugin. */
export class PluginMetrics {
  readonly eventsReceived = new Counter('teleport_plugin_events_received_total', 'Watch events received, by resource kind and operation.');
  readonly messagesSent = new Counter('teleport_plugin_messages_sent_total', 'Messages posted or updated on the channel, by channel and operation.');
  readonly messagesFailed = new Counter('teleport_plugin_messages_failed_total', 'Channel API calls that failed after retries, by channel and operation.');
  readonly retries = new Counter('teleport_plugin_api_retries_total', 'Channel API calls retried (5xx, network), by channel.');
  readonly rateLimitWaits = new Counter('teleport_plugin_rate_limit_waits_total', 'Times a channel API asked the plugin to slow down (429), by channel.');
  readonly rateLimitWaitSeconds = new Counter('teleport_plugin_rate_limit_wait_seconds_total', 'Seconds spent waiting for channel rate limits, by channel.');
  readonly watchReconnects = new Counter('teleport_plugin_watch_reconnects_total', 'Times the Teleport event stream was re-opened.');
  readonly handlerSeconds = new Histogram('teleport_plugin_handler_duration_seconds', 'Time to handle one access request event.');
  readonly identityExpiry = new Gauge('teleport_plugin_identity_expiry_timestamp_seconds', 'When the Teleport client certificate expires (Unix time).');
  readonly ready = new Gauge('teleport_plugin_ready', '1 when connected to Teleport, watching, and the channel API is healthy.');

  /** The registry in Prometheus text format. */
  render(): string {
    return (
      [
        this.eventsReceived, this.messagesSent, this.messagesFailed, this.retries, this.rateLimitWaits,
        this.rateLimitWaitSeconds, this.watchReconnects, this.handlerSeconds, this.identityExpiry, this.ready,
      ]
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}
