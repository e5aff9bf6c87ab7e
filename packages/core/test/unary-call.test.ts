// Unary calls go straight to the grpc-js channel (teleport/unary-call.ts), not through the
// generated client: what a caller sees must stay what grpc-js reported — answers, statuses mapped
// to TeleportError with the server's message, cancellation by the handler's signal, deadlines.
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '@tap/sandbox';
import { API_DOMAIN, type TeleportClient, TeleportError, channelOptions, connectTeleport, loadCredentials, teleportServices } from '@tap/core';
import { CapturedLog } from '@tap/core/testing';
import { unaryCall } from '../src/teleport/unary-call.js';

let sandbox: Sandbox;
let dir: string;
let client: TeleportClient;
let identity: string;

beforeAll(async () => {
  sandbox = await startSandbox({ clusterName: 'unary.example.com' });
  dir = await mkdtemp(join(tmpdir(), 'unary-'));
  identity = join(dir, 'identity');
  await sandbox.writeIdentity(identity, { user: 'access-plugin', roles: ['access-plugin'] });
  ({ client } = await connectTeleport({ addr: sandbox.authAddr, identity, refreshIdentity: false, refreshIdentityIntervalMs: 60_000 }, { log: new CapturedLog().logger, env: {} }));
});
afterAll(async () => {
  client.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe('unary calls', () => {
  it('returns answers and writes plugin data the server can read back', async () => {
    const id = await sandbox.createRequest({ user: 'alice', roles: ['editor'] });
    await client.updatePluginData(id, 'slack', { user: 'alice', messages: 'C1/1.0' }, { user: '', messages: '' });
    expect(await client.getPluginData(id, 'slack')).toEqual({ user: 'alice', messages: 'C1/1.0' });
  });

  it("maps a failed status to TeleportError with the server's message", async () => {
    const id = await sandbox.createRequest({ user: 'alice', roles: ['editor'] });
    const err = await client.updatePluginData(id, 'slack', { user: 'bob' }, { user: 'someone-else' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TeleportError);
    expect((err as TeleportError).isCompareFailed).toBe(true);
    expect((err as TeleportError).message).toContain('expectations not met');
  });

  it('cancels an in-flight call when the signal aborts', async () => {
    sandbox.faults.delayMs = 5_000;
    try {
      const controller = new AbortController();
      const started = Date.now();
      const call = client.ping(controller.signal).catch((e: unknown) => e);
      setTimeout(() => controller.abort(), 50);
      const err = await call;
      expect(err).toBeInstanceOf(TeleportError);
      expect((err as TeleportError).status).toBe('CANCELLED');
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      sandbox.faults.delayMs = 0;
    }
  });

  it('ends with DEADLINE_EXCEEDED when the deadline passes', async () => {
    const creds = loadCredentials({ addr: sandbox.authAddr, identity, refreshIdentity: false, refreshIdentityIntervalMs: 60_000 });
    const ssl = grpc.credentials.createSsl(Buffer.from(creds.caPem), Buffer.from(creds.keyPem), Buffer.from(creds.certPem));
    const channel = new grpc.Channel(sandbox.authAddr, ssl, { ...channelOptions(), 'grpc.ssl_target_name_override': API_DOMAIN });
    const ping = (teleportServices().AuthService as any).service.Ping as grpc.MethodDefinition<object, unknown>;
    sandbox.faults.delayMs = 2_000;
    try {
      const started = Date.now();
      const err = await unaryCall(channel, { path: ping.path, serialize: ping.requestSerialize, deserialize: ping.responseDeserialize }, {}, new Date(Date.now() + 100)).catch((e: unknown) => e);
      expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      sandbox.faults.delayMs = 0;
      channel.close();
    }
  });
});
