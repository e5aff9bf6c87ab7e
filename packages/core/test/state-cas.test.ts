// CAS retry logic against a small in-memory plugin-data store with Teleport's Expect/Set
// semantics. Only these unit tests use it; the engine tests run against the sandbox.
import { describe, expect, it } from 'vitest';
import {
  DecorrelatedBackoff,
  PluginDataDecodeError,
  RequestStateStore,
  RetryLater,
  StateConflictError,
  TeleportError,
  emptyRecord,
  type TeleportClient,
} from '@tap/core';

class MemoryPluginData {
  readonly entries = new Map<string, Record<string, string>>();
  writes = 0;
  /** Called before each write is applied, to simulate a concurrent writer. */
  beforeWrite?: (id: string) => void;

  client(): TeleportClient {
    const unused = () => {
      throw new Error('not used by these tests');
    };
    return {
      getPluginData: async (id) => (this.entries.has(id) ? { ...this.entries.get(id)! } : undefined),
      updatePluginData: async (id, _plugin, set, expect) => {
        this.beforeWrite?.(id);
        const current = this.entries.get(id);
        for (const [key, value] of Object.entries(expect)) {
          if ((current?.[key] ?? '') !== value) throw new TeleportError('FAILED_PRECONDITION', `expectations not met for field "${key}"`);
        }
        const next = { ...current };
        for (const [key, value] of Object.entries(set)) {
          if (value === '') delete next[key];
          else next[key] = value;
        }
        this.writes++;
        if (Object.keys(next).length) this.entries.set(id, next);
        else this.entries.delete(id);
      },
      ping: unused,
      watchEvents: unused,
      listAccessRequests: unused,
      accessRequestPages: unused,
      getRole: unused,
      getUser: unused,
      getResourceDetails: unused,
      listAccessMonitoringRules: unused,
      submitAccessReview: unused,
      close: () => {},
    };
  }
}

const fastBackoff = () => new DecorrelatedBackoff({ baseMs: 1, capMs: 2, random: () => 0.5 });

function setup() {
  const mem = new MemoryPluginData();
  const store = new RequestStateStore({ client: mem.client(), pluginName: 'slack', createBackoff: fastBackoff });
  return { mem, store };
}

const withUser = (user: string) => ({ ...emptyRecord(), request: { ...emptyRecord().request, user } });

describe('RequestStateStore', () => {
  it('create claims once: a second create (or a racing one) gets undefined', async () => {
    const { mem, store } = setup();
    const [a, b] = await Promise.all([store.create('r1', withUser('alice')), store.create('r1', withUser('bob'))]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(mem.entries.get('r1')?.user).toMatch(/alice|bob/);
    expect(await store.create('r1', withUser('carol'))).toBeUndefined();
  });

  it('update writes only the keys that change, expecting the map it read', async () => {
    const { mem, store } = setup();
    await store.create('r1', withUser('alice'));
    const result = await store.update('r1', (s) => ({ ...s, messages: [{ channelId: 'C', messageId: '1' }] }));
    expect(result?.written).toBe(true);
    expect(mem.entries.get('r1')).toStrictEqual({ user: 'alice', messages: 'C/1' });
    const again = await store.update('r1', (s) => s);
    expect(again?.written).toBe(false);
  });

  it('returns undefined when there is no entry (Go: NotFound)', async () => {
    const { store } = setup();
    expect(await store.update('nope', (s) => s)).toBeUndefined();
  });

  it('propagates an error thrown by modify without retrying (TestModifyFailed)', async () => {
    const { store } = setup();
    await store.create('r1', withUser('alice'));
    let calls = 0;
    await expect(
      store.update('r1', () => {
        calls++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });

  it('retries when modify asks to (TestModifyCompareFailed)', async () => {
    const { store } = setup();
    await store.create('r1', withUser('alice'));
    let calls = 0;
    const result = await store.update('r1', (s) => {
      if (++calls < 3) throw new RetryLater('not yet');
      s.request.reviewsCount = 2;
      return s;
    });
    expect(calls).toBe(3);
    expect(result?.state.request.reviewsCount).toBe(2);
  });

  it('re-reads and retries when another writer changed the entry (TestModifySuccess)', async () => {
    const { mem, store } = setup();
    await store.create('r1', withUser('alice'));
    let interfere = 2;
    mem.beforeWrite = (id) => {
      if (interfere-- > 0) mem.entries.set(id, { ...mem.entries.get(id)!, reviews_count: String(10 + interfere) });
    };
    const result = await store.update('r1', (s) => ({ ...s, request: { ...s.request, resolution: 'APPROVED' } }));
    expect(result?.written).toBe(true);
    expect(mem.entries.get('r1')).toStrictEqual({ user: 'alice', reviews_count: '10', resolution: 'APPROVED' });
  });

  it('gives up with StateConflictError when the signal aborts (TestBackoff)', async () => {
    const { store } = setup();
    await store.create('r1', withUser('alice'));
    const controller = new AbortController();
    let calls = 0;
    const pending = store.update(
      'r1',
      () => {
        if (++calls === 5) controller.abort();
        throw new RetryLater('never');
      },
      controller.signal,
    );
    await expect(pending).rejects.toBeInstanceOf(StateConflictError);
    expect(calls).toBe(5);
  });

  it('propagates a decode error (TestWrongData)', async () => {
    const { mem, store } = setup();
    mem.entries.set('r1', { user: 'alice', resources: '{not json' });
    await expect(store.update('r1', (s) => s)).rejects.toBeInstanceOf(PluginDataDecodeError);
  });

  it('never deletes keys it does not manage (extra keys of other writers survive)', async () => {
    const { mem, store } = setup();
    mem.entries.set('r1', { user: 'alice', channel_id: 'C0', timestamp: '1', some_future_key: 'x' });
    await store.update('r1', (s) => ({ ...s, request: { ...s.request, reviewsCount: 1 } }));
    expect(mem.entries.get('r1')).toStrictEqual({
      user: 'alice', channel_id: 'C0', timestamp: '1', some_future_key: 'x', reviews_count: '1', messages: 'C0/1',
    });
  });

  it('uses a known entry to skip the read, and recovers when it was stale', async () => {
    const { mem, store } = setup();
    const created = (await store.create('r1', withUser('alice')))!;
    await store.update('r1', (s) => ({ ...s, request: { ...s.request, requestReason: 'changed elsewhere' } }));
    const writesBefore = mem.writes;
    const result = await store.update('r1', (s) => ({ ...s, request: { ...s.request, reviewsCount: 1 } }), undefined, created);
    expect(result?.state.request.requestReason).toBe('changed elsewhere');
    expect(mem.writes).toBe(writesBefore + 1);
  });
});
