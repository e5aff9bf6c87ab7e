import { describe, expect, it } from 'vitest';
import { DecorrelatedBackoff, KeyedQueue, sleep } from '@tap/core';

/** A task that runs until released, recording start order and concurrency. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return { release, released };
}

async function until(cond: () => boolean, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

describe('KeyedQueue', () => {
  it('runs different keys concurrently (TestConcurrent)', async () => {
    const q = new KeyedQueue();
    const g = gate();
    let running = 0;
    for (const key of ['a', 'b', 'c', 'd']) {
      await q.push(key, async () => {
        running++;
        await g.released;
      });
    }
    await until(() => running === 4);
    g.release();
    await q.idle();
    expect(q.size).toBe(0);
  });

  it('runs one key sequentially in push order (TestSequential)', async () => {
    const q = new KeyedQueue();
    const order: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    for (let i = 0; i < 20; i++) {
      await q.push('same', async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(i % 3);
        order.push(i);
        inFlight--;
      });
    }
    await q.idle();
    expect(order).toStrictEqual([...Array(20).keys()]);
    expect(maxInFlight).toBe(1);
  });

  it('counts queued tasks toward the limit and makes push wait (TestConcurrencyLimit)', async () => {
    const q = new KeyedQueue({ limit: 4 });
    const g = gate();
    const task = () => g.released;
    // 2 tasks on each of 2 keys: 2 running + 2 queued = the limit of 4.
    for (const key of ['a', 'a', 'b', 'b']) await q.push(key, task);
    expect(q.size).toBe(4);
    let fifthAccepted = false;
    const fifth = q.push('c', task).then(() => (fifthAccepted = true));
    await sleep(5);
    expect(fifthAccepted).toBe(false);
    g.release();
    await fifth;
    await q.idle();
    expect(q.size).toBe(0);
  });

  it('rejects a waiting push when its signal aborts', async () => {
    const q = new KeyedQueue({ limit: 1 });
    const g = gate();
    await q.push('a', () => g.released);
    const controller = new AbortController();
    const waiting = q.push('b', async () => {}, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    g.release();
    await q.idle();
  });

  it('keeps going after a task throws', async () => {
    const errors: unknown[] = [];
    const q = new KeyedQueue({ onError: (err) => errors.push(err) });
    let ran = false;
    await q.push('a', async () => {
      throw new Error('bad');
    });
    await q.push('a', async () => {
      ran = true;
    });
    await q.idle();
    expect(ran).toBe(true);
    expect(errors).toHaveLength(1);
  });
});

describe('DecorrelatedBackoff', () => {
  it('follows base + rand[0, prev×3 − base), capped', () => {
    const rolls = [0, 0.5, 0.999, 0.999, 0.999, 0.999];
    const b = new DecorrelatedBackoff({ baseMs: 20, capMs: 5000, random: () => rolls.shift() ?? 1 });
    // prev 20: 20 + 0×40 = 20; prev 20: 20 + 0.5×40 = 40; prev 40: 20 + 0.999×100 = 119; …
    expect(b.next()).toBe(20);
    expect(b.next()).toBe(40);
    expect(b.next()).toBe(119);
    expect(b.next()).toBe(356);
    expect(b.next()).toBe(1066);
    expect(b.next()).toBe(3194);
    expect(b.next()).toBe(5000);
    expect(b.next()).toBe(5000);
  });

  it('never goes below base or above cap with real randomness', () => {
    const b = new DecorrelatedBackoff({ baseMs: 1, capMs: 1000 });
    for (let i = 0; i < 200; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(1);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('wait rejects when the signal aborts', async () => {
    const b = new DecorrelatedBackoff({ baseMs: 10_000, capMs: 10_000 });
    const controller = new AbortController();
    const waiting = b.wait(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
