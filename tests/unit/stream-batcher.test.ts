import { describe, expect, it } from 'vitest';
import { StreamBatcher, type Schedule } from '../../src/core/chat/stream-batcher';

function manualFrames() {
  const queue: (() => void)[] = [];
  const schedule: Schedule = (run) => {
    queue.push(run);
    return () => {
      queue.splice(queue.indexOf(run), 1);
    };
  };
  return {
    schedule,
    tick: () => {
      queue.splice(0).forEach((run) => {
        run();
      });
    },
    pending: () => queue.length,
  };
}

describe('StreamBatcher', () => {
  it('sends one batch per frame however many tokens arrive', () => {
    const frames = manualFrames();
    const sent: string[] = [];
    const batcher = new StreamBatcher((t) => sent.push(t), frames.schedule);
    for (const token of ['He', 'llo', ',', ' wor', 'ld']) batcher.push(token);
    expect(sent).toEqual([]);
    expect(frames.pending()).toBe(1);
    frames.tick();
    expect(sent).toEqual(['Hello, world']);
    batcher.push('!');
    frames.tick();
    expect(sent).toEqual(['Hello, world', '!']);
  });

  it('flush sends the remainder at once and cancels the pending frame', () => {
    const frames = manualFrames();
    const sent: string[] = [];
    const batcher = new StreamBatcher((t) => sent.push(t), frames.schedule);
    batcher.push('tail');
    batcher.flush();
    expect(sent).toEqual(['tail']);
    expect(frames.pending()).toBe(0);
    batcher.flush();
    expect(sent).toEqual(['tail']);
  });
});
