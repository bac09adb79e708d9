import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/errors';
import {
  addCustomModel,
  createConversation,
  getConversation,
  isQuotaExceededError,
  listMessages,
  QUOTA_EXCEEDED_MESSAGE,
  sendUserMessage,
  setSetting,
  toStorageError,
  withStorageErrors,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, makeWllamaSpec, seedConversation } from './factories';

const quotaError = (): DOMException =>
  new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('isQuotaExceededError', () => {
  it('recognizes the DOMException a browser throws', () => {
    expect(isQuotaExceededError(quotaError())).toBe(true);
  });

  it("recognizes Dexie's own QuotaExceededError", () => {
    expect(isQuotaExceededError(new Dexie.QuotaExceededError('full', quotaError()))).toBe(true);
  });

  it('recognizes a transaction aborted because the quota ran out', () => {
    expect(isQuotaExceededError(new Dexie.AbortError('aborted', quotaError()))).toBe(true);
  });

  it('recognizes a quota error among the failures of a bulk write', () => {
    const bulk = new Dexie.BulkError('2 of 3 failed', {
      0: new Dexie.ConstraintError('dup'),
      2: quotaError(),
    });

    expect(isQuotaExceededError(bulk)).toBe(true);
  });

  it('recognizes one given as the cause', () => {
    expect(isQuotaExceededError(new Error('write failed', { cause: quotaError() }))).toBe(true);
  });

  it.each([
    ['a constraint error', new Dexie.ConstraintError('dup')],
    ['an abort for another reason', new Dexie.AbortError('aborted', new Error('other'))],
    ['a plain error', new Error('QuotaExceededError')],
    ['a string', 'QuotaExceededError'],
    ['null', null],
  ])('does not mistake %s for one', (_, error) => {
    expect(isQuotaExceededError(error)).toBe(false);
  });

  it('stops on errors that wrap each other in a cycle', () => {
    const a = new Error('a') as Error & { inner?: unknown };
    const b = new Error('b', { cause: a });
    a.inner = b;

    expect(isQuotaExceededError(a)).toBe(false);
  });
});

describe('toStorageError', () => {
  it('turns a quota error into AppError quota-exceeded, keeping the original as cause', () => {
    const original = new Dexie.QuotaExceededError('full', quotaError());

    const mapped = toStorageError(original);

    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped).toMatchObject({ code: 'quota-exceeded', message: QUOTA_EXCEEDED_MESSAGE });
    expect((mapped as AppError).cause).toBe(original);
  });

  it('returns any other error unchanged', () => {
    const other = new Dexie.ConstraintError('dup');

    expect(toStorageError(other)).toBe(other);
  });
});

describe('withStorageErrors', () => {
  it('passes the result through', async () => {
    await expect(withStorageErrors(() => Promise.resolve(7))).resolves.toBe(7);
  });

  it('maps a thrown quota error', async () => {
    await expect(withStorageErrors(() => Promise.reject(quotaError()))).rejects.toMatchObject({
      name: 'AppError',
      code: 'quota-exceeded',
    });
  });
});

describe('writes when storage is full', () => {
  let db: PersonaDatabase;

  beforeEach(() => {
    db = freshDatabase();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await db.delete();
  });

  const fillStorage = (method: 'add' | 'put'): void => {
    vi.spyOn(IDBObjectStore.prototype, method).mockImplementation(() => {
      throw quotaError();
    });
  };

  it('sendUserMessage rejects with quota-exceeded and stores nothing', async () => {
    const { conversation } = await seedConversation(db);
    fillStorage('add');

    const sending = sendUserMessage(db, conversation.id, 'Hello');

    await expect(sending).rejects.toBeInstanceOf(AppError);
    await expect(sending).rejects.toMatchObject({ code: 'quota-exceeded' });
    vi.restoreAllMocks();
    expect(await listMessages(db, conversation.id)).toEqual([]);
    expect(await getConversation(db, conversation.id)).toEqual(conversation);
  });

  it('createConversation rejects with quota-exceeded', async () => {
    fillStorage('add');

    await expect(createConversation(db)).rejects.toMatchObject({ code: 'quota-exceeded' });
  });

  it('setSetting rejects with quota-exceeded', async () => {
    fillStorage('put');

    await expect(setSetting(db, 'sendOnEnter', false)).rejects.toMatchObject({
      code: 'quota-exceeded',
    });
  });

  it('addCustomModel rejects with quota-exceeded', async () => {
    const spec = makeWllamaSpec();
    fillStorage('add');

    await expect(addCustomModel(db, { id: spec.id, label: 'Mine', spec })).rejects.toMatchObject({
      code: 'quota-exceeded',
    });
  });
});
