import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  findField,
  removeSection,
  setFieldLocked,
  userSetChange,
} from '../../src/core/profile/apply';
import { emptyProfile } from '../../src/core/profile/defaults';
import { revertChanges } from '../../src/core/profile/revert';
import type { Profile, ProfileChange } from '../../src/core/profile/types';
import { validateProfile } from '../../src/core/profile/validate';

const T0 = 1_700_000_000_000;
const T1 = T0 + 1000;
const T2 = T0 + 2000;
const T3 = T0 + 3000;

const learn = (key: string, value: string): ProfileChange => ({
  op: 'set',
  section: 'Demographics',
  key,
  value,
  evidence: { conversationId: 'c1', messageId: `m-${value}`, quote: `I am ${value}` },
});

function startingProfile(): Profile {
  return applyChanges(
    emptyProfile(T0),
    [learn('Location', 'Paris'), learn('Occupation', 'nurse')],
    { actor: 'optimizer', now: T0 },
  ).profile;
}

const value = (profile: Profile, key: string): string | undefined =>
  findField(profile, 'Demographics', key)?.field.value;

describe('revertChanges', () => {
  it('restores every field of a revision and describes the undo as changes', () => {
    const start = startingProfile();
    const revision = applyChanges(
      start,
      [
        learn('Location', 'Berlin'),
        learn('Age', '34'),
        { ...learn('Occupation', ''), op: 'remove' },
      ],
      { actor: 'optimizer', now: T1 },
    );
    expect(revision.applied).toHaveLength(3);
    const snapshot = structuredClone(revision.profile);
    const undone = revertChanges(revision.profile, revision.applied, T2);
    expect(revision.profile).toEqual(snapshot);
    expect(undone.conflicts).toEqual([]);
    expect(undone.profile.sections).toEqual(start.sections);
    expect(undone.profile.updatedAt).toBe(T2);
    expect(undone.applied.map((c) => [c.op, c.key])).toEqual([
      ['set', 'Occupation'],
      ['remove', 'Age'],
      ['set', 'Location'],
    ]);
    expect(validateProfile(undone.profile).ok).toBe(true);
  });

  it('undoes several changes to one field in reverse order', () => {
    const start = startingProfile();
    const revision = applyChanges(start, [learn('Location', 'Berlin'), learn('Location', 'Rome')], {
      actor: 'optimizer',
      now: T1,
    });
    expect(value(revertChanges(revision.profile, revision.applied, T2).profile, 'Location')).toBe(
      'Paris',
    );
  });

  it('refuses a change whose field changed since, applies the rest, and can be forced', () => {
    const old = applyChanges(startingProfile(), [learn('Location', 'Berlin'), learn('Age', '34')], {
      actor: 'optimizer',
      now: T1,
    });
    const newer = applyChanges(old.profile, [userSetChange('Demographics', 'Location', 'Madrid')], {
      actor: 'user',
      now: T2,
    });
    const undone = revertChanges(newer.profile, old.applied, T3);
    expect(undone.conflicts).toHaveLength(1);
    expect(undone.conflicts[0]?.change.key).toBe('Location');
    expect(undone.conflicts[0]?.current?.value).toBe('Madrid');
    expect(value(undone.profile, 'Location')).toBe('Madrid');
    expect(value(undone.profile, 'Age')).toBeUndefined();

    const forced = revertChanges(newer.profile, old.applied, T3, { force: true });
    expect(forced.conflicts).toEqual([]);
    expect(value(forced.profile, 'Location')).toBe('Paris');
  });

  it('can revert a revert', () => {
    const start = startingProfile();
    const revision = applyChanges(start, [learn('Location', 'Berlin')], {
      actor: 'optimizer',
      now: T1,
    });
    const undone = revertChanges(revision.profile, revision.applied, T2);
    const redone = revertChanges(undone.profile, undone.applied, T3);
    expect(redone.conflicts).toEqual([]);
    expect(redone.profile.sections).toEqual(revision.profile.sections);
  });

  it('undoes a lock toggle', () => {
    const start = startingProfile();
    const locked = setFieldLocked(start, 'Demographics', 'Location', true, T1);
    const undone = revertChanges(locked.profile, locked.applied, T2);
    expect(findField(undone.profile, 'Demographics', 'Location')?.field.locked).toBe(false);
  });

  it('brings back a removed user section with its fields', () => {
    const withSection = applyChanges(
      startingProfile(),
      [userSetChange('Hobbies', 'Sport', 'chess'), userSetChange('Hobbies', 'Music', 'jazz')],
      { actor: 'user', now: T1 },
    );
    const removed = removeSection(withSection.profile, 'Hobbies', T2);
    const undone = revertChanges(removed.profile, removed.applied, T3);
    const hobbies = undone.profile.sections.find((s) => s.name === 'Hobbies');
    expect(hobbies?.builtIn).toBe(false);
    expect(Object.keys(hobbies?.fields ?? {}).sort()).toEqual(['Music', 'Sport']);
  });

  it('returns the same profile when nothing needs undoing', () => {
    const start = startingProfile();
    const result = revertChanges(start, [], T1);
    expect(result.profile).toBe(start);
    expect(result.applied).toEqual([]);
  });

  it('treats damaged history as a conflict instead of storing it', () => {
    const start = startingProfile();
    const revision = applyChanges(start, [learn('Location', 'Berlin')], {
      actor: 'optimizer',
      now: T1,
    });
    const [change] = revision.applied;
    if (change?.before === undefined || change.before === null) throw new Error('setup');
    const damaged = { ...change, before: { ...change.before, value: 'x'.repeat(500) } };
    const result = revertChanges(revision.profile, [damaged], T2);
    expect(result.conflicts).toHaveLength(1);
    expect(value(result.profile, 'Location')).toBe('Berlin');
  });
});
