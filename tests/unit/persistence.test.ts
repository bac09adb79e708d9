import { describe, expect, it } from 'vitest';
import { isNewDownload, shouldAskForPersistence } from '../../src/core/storage/persistence';

describe('asking for persistent storage', () => {
  it('asks once, after the first model download, when storage is not yet persistent', () => {
    expect(
      shouldAskForPersistence({
        status: 'not-persisted',
        askedBefore: false,
        downloadedModel: true,
      }),
    ).toBe(true);
  });

  it('does not ask when a model only came back from the cache', () => {
    expect(
      shouldAskForPersistence({
        status: 'not-persisted',
        askedBefore: false,
        downloadedModel: false,
      }),
    ).toBe(false);
  });

  it('does not ask a second time by itself, nor when already persistent or unsupported', () => {
    expect(
      shouldAskForPersistence({
        status: 'not-persisted',
        askedBefore: true,
        downloadedModel: true,
      }),
    ).toBe(false);
    expect(
      shouldAskForPersistence({ status: 'persisted', askedBefore: false, downloadedModel: true }),
    ).toBe(false);
    expect(
      shouldAskForPersistence({ status: 'unsupported', askedBefore: false, downloadedModel: true }),
    ).toBe(false);
  });

  it('counts a model as downloaded only when it was not cached before its load', () => {
    expect(isNewDownload(false, true)).toBe(true);
    expect(isNewDownload(true, true)).toBe(false);
    expect(isNewDownload(false, false)).toBe(false);
  });
});
