/** Models the user added by URL, kept so they can be loaded again and their cache listed. */
import type { PersonaDatabase } from './database';
import type { CustomModel } from './records';
import { getSetting, setSetting } from './settings';
import { InvalidRequestError, withStorageErrors } from './storage-errors';

export const MAX_LABEL_LENGTH = 120;

export type NewCustomModel = Omit<CustomModel, 'addedAt'>;

/** Adds a model; rejects an id that is already taken. */
export async function addCustomModel(
  db: PersonaDatabase,
  { id, label, spec }: NewCustomModel,
): Promise<CustomModel> {
  const trimmed = label.replace(/\s+/g, ' ').trim();
  if (trimmed === '' || Array.from(trimmed).length > MAX_LABEL_LENGTH) {
    throw new InvalidRequestError(
      'invalid-label',
      `A model name must have between 1 and ${MAX_LABEL_LENGTH} characters.`,
    );
  }
  const model: CustomModel = { id, label: trimmed, spec, addedAt: Date.now() };
  return withStorageErrors(() =>
    db.transaction('rw', db.customModels, async () => {
      if (await db.customModels.get(model.id)) {
        throw new InvalidRequestError(
          'duplicate-model',
          `A model with the id "${model.id}" was already added.`,
        );
      }
      await db.customModels.add(model);
      return model;
    }),
  );
}

/** Oldest first, the order they were added. Safe to call inside `liveQuery`. */
export function listCustomModels(db: PersonaDatabase): Promise<CustomModel[]> {
  return db.customModels.orderBy('addedAt').toArray();
}

/**
 * Removes a model, and unselects it if it was the selected one, in one transaction so the
 * selection never points at a model that is gone. Its cached files are the engine's business.
 */
export async function removeCustomModel(db: PersonaDatabase, id: string): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.customModels, db.settings], async () => {
      const model = await db.customModels.get(id);
      if (!model) return;
      await db.customModels.delete(id);
      if ((await getSetting(db, 'selectedModel'))?.id === model.spec.id) {
        await setSetting(db, 'selectedModel', null);
      }
    }),
  );
}
