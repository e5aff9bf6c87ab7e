import { describe, expect, it } from 'vitest';
import { parseListenAddr, probeReadiness, startHealthServer } from '../src/http-server.js';
import { PluginMetrics } from '../src/metrics.js';

describe('health and metrics endpoints', () => {
  it('answers /healthz, /readyz (503 with the reason until ready) and /metrics', async () => {
    const metrics = new PluginMetrics();
    let state = { ready: false, reason: 'watcher not initialised' };
    const server = await startHealthServer('127.0.0.1:0', metrics, () => state);
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain('watcher not initialised');
      const probe = await probeReadiness(server.url.replace('http://', ''));
      expect(probe.ok).toBe(false);

      state = { ready: true, reason: '' };
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await probeReadiness(server.url.replace('http://', ''))).ok).toBe(true);

      metrics.messagesSent.inc({ channel: 'slack', op: 'post' });
      metrics.messagesSent.inc({ channel: 'slack', op: 'post' });
      metrics.handlerSeconds.observe(0.02);
      metrics.identityExpiry.set(1_900_000_000);
      const res = await fetch(`${server.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
      const text = await res.text();
      expect(text).toContain('# TYPE teleport_plugin_messages_sent_total counter');
      expect(text).toContain('teleport_plugin_messages_sent_total{channel="slack",op="post"} 2');
      expect(text).toContain('teleport_plugin_handler_duration_seconds_bucket{le="0.025"} 1');
      expect(text).toContain('teleport_plugin_handler_duration_seconds_bucket{le="0.01"} 0');
      expect(text).toContain('teleport_plugin_handler_duration_seconds_count 1');
      expect(text).toContain('teleport_plugin_identity_expiry_timestamp_seconds 1900000000');
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('reports an unreachable endpoint as not ready', async () => {
    const probe = await probeReadiness('127.0.0.1:1', 1000);
    expect(probe.ok).toBe(false);
    expect(probe.detail).toMatch(/cannot reach/);
  });

  it('parses listen addresses and rejects bad ones with the value in the message', () => {
    expect(parseListenAddr('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddr('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(parseListenAddr(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(() => parseListenAddr('8080')).toThrow(/"8080"/);
    expect(() => parseListenAddr('host:99999')).toThrow(/invalid listen address/);
  });
});
