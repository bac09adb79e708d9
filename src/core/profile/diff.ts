import { sameField } from './revert';
import type { AppliedChange, Profile, ProfileField } from './types';

/**
 * The changes that turn `before` into `after`, field by field, as a revision records them: used
 * when a whole profile is replaced (an import), so history can show and undo it like any edit.
 */
export function diffProfiles(before: Profile, after: Profile): AppliedChange[] {
  const fields = (profile: Profile) => {
    const map = new Map<string, { section: string; key: string; field: ProfileField }>();
    for (const section of profile.sections) {
      for (const [key, field] of Object.entries(section.fields)) {
        map.set(`${section.name.toLowerCase()}\u0000${key.toLowerCase()}`, {
          section: section.name,
          key,
          field,
        });
      }
    }
    return map;
  };
  const old = fields(before);
  const next = fields(after);
  const changes: AppliedChange[] = [];
  for (const [id, entry] of old) {
    if (!next.has(id)) {
      changes.push({
        op: 'remove',
        section: entry.section,
        key: entry.key,
        before: entry.field,
        after: null,
        evidence: null,
      });
    }
  }
  for (const [id, entry] of next) {
    const previous = old.get(id)?.field ?? null;
    if (!sameField(previous, entry.field)) {
      changes.push({
        op: 'set',
        section: entry.section,
        key: entry.key,
        before: previous,
        after: entry.field,
        evidence: null,
      });
    }
  }
  return changes;
}
