import { describe, expect, it } from 'vitest';
import { EngineLease, type Lease } from '../../src/worker/engine-lease';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('EngineLease: one engine, one rule for everyone who uses it (issue 9)', () => {
  it('grants a free engine at once and frees it on release', async () => {
    const lease = new EngineLease();
    const held = await lease.acquire('learning');
    expect(lease.holder).toBe('learning');
    held.release();
    held.release();
    expect(lease.holder).toBeNull();
  });

  it('asks a lower-ranked holder to yield, and hands over only when it releases', async () => {
    const lease = new EngineLease();
    const learning = await lease.acquire('learning');
    let chat: Lease | null = null;
    const asking = lease.acquire('chat').then((granted) => {
      chat = granted;
      return granted;
    });
    await tick();
    expect(learning.signal.aborted).toBe(true);
    // Asked, not taken: the update is still finishing its model call.
    expect(chat).toBeNull();
    expect(lease.holder).toBe('learning');
    learning.release();
    expect((await asking).signal.aborted).toBe(false);
    expect(lease.holder).toBe('chat');
  });

  it('never asks a holder of the same or higher rank to yield; the newcomer waits its turn', async () => {
    const lease = new EngineLease();
    const chat = await lease.acquire('chat');
    const learning = lease.acquire('learning');
    const lab = lease.acquire('lab');
    await tick();
    expect(chat.signal.aborted).toBe(false);
    chat.release();
    const first = await learning;
    expect(first.role).toBe('learning');
    first.release();
    expect((await lab).role).toBe('lab');
  });

  it('serves the highest-ranked waiter first, first come within a rank', async () => {
    const lease = new EngineLease();
    const held = await lease.acquire('chat');
    const order: string[] = [];
    const take = (role: 'lab' | 'learning' | 'model', name: string) =>
      lease.acquire(role).then((granted) => {
        order.push(name);
        granted.release();
      });
    const all = [take('lab', 'lab'), take('learning', 'learning 1'), take('model', 'model')];
    all.push(take('learning', 'learning 2'));
    held.release();
    await Promise.all(all);
    expect(order).toEqual(['model', 'learning 1', 'learning 2', 'lab']);
  });

  it('background work does not wait: null while someone of equal or higher rank holds or waits', async () => {
    const lease = new EngineLease();
    const chat = await lease.acquire('chat');
    expect(await lease.acquire('learning', { wait: false })).toBeNull();
    chat.release();

    const lab = await lease.acquire('lab');
    const learning = lease.acquire('learning', { wait: false });
    await tick();
    expect(lab.signal.aborted).toBe(true);
    lab.release();
    expect((await learning)?.role).toBe('learning');
  });

  it('a model load displaces whoever holds the engine, a reply included', async () => {
    const lease = new EngineLease();
    const chat = await lease.acquire('chat');
    const load = lease.acquire('model', { displace: true });
    await tick();
    expect(chat.signal.aborted).toBe(true);
    chat.release();
    expect((await load).role).toBe('model');
  });

  it('a waiter that gives up leaves the queue and rejects with aborted', async () => {
    const lease = new EngineLease();
    const chat = await lease.acquire('chat');
    const giveUp = new AbortController();
    const waiting = lease.acquire('lab', { signal: giveUp.signal });
    giveUp.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    // Out of the queue: the engine is not handed to it when the reply releases.
    chat.release();
    expect(lease.holder).toBeNull();
  });

  it('tells its listeners who released the engine', async () => {
    const lease = new EngineLease();
    const released: string[] = [];
    lease.onRelease((role) => released.push(role));
    (await lease.acquire('chat')).release();
    (await lease.acquire('model')).release();
    expect(released).toEqual(['chat', 'model']);
  });
});
