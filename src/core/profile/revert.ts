import {
  MAX_FIELDS_PER_SECTION,
  MAX_KEY_LENGTH,
  MAX_SECTION_NAME_LENGTH,
  MAX_SECTIONS,
  sectionTemplate,
} from './defaults';
import { findFieldKey } from './apply';
import { sameName } from './normalize';
import type { AppliedChange, Profile, ProfileField, ProfileSection } from './types';
import { textProblem, validateField } from './validate';

/**
 * Undoes applied changes by restoring each one's `before`, newest first, and describes the undo
 * as applied changes of its own, so a revert is a revision that can itself be reverted.
 *
 * When a field changed after the revision being undone (its current state is not that change's
 * `after`), the change is refused and reported as a conflict rather than silently discarding the
 * newer value; the other changes of the same revert still go ahead. The UI can show the conflicts
 * and offer `{force: true}`, which restores `before` anyway.
 *
 * Restored fields get back their old `updatedAt`: they hold the old value, and keeping it lets a
 * later revert of this revert match them exactly. A section that no longer exists (the user
 * removed it) is recreated; built-in status follows the section's name.
 */

export interface RevertConflict {
  change: AppliedChange;
  /** The field as it is now, or null when it is gone. */
  current: ProfileField | null;
  detail: string;
}

export interface RevertResult {
  profile: Profile;
  applied: AppliedChange[];
  conflicts: RevertConflict[];
}

export interface RevertOptions {
  /** Restore `before` even when the field changed since. */
  force?: boolean;
}

export function sameField(a: ProfileField | null, b: ProfileField | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.value === b.value &&
    a.updatedAt === b.updatedAt &&
    a.source === b.source &&
    a.locked === b.locked &&
    a.evidence.length === b.evidence.length &&
    a.evidence.every((evidence, index) => {
      const other = b.evidence[index];
      return (
        other !== undefined &&
        other.conversationId === evidence.conversationId &&
        other.messageId === evidence.messageId &&
        other.quote === evidence.quote
      );
    })
  );
}

export function revertChanges(
  profile: Profile,
  applied: readonly AppliedChange[],
  now: number,
  options: RevertOptions = {},
): RevertResult {
  const sections: ProfileSection[] = profile.sections.map((section) => ({
    ...section,
    fields: { ...section.fields },
  }));
  const undone: AppliedChange[] = [];
  const conflicts: RevertConflict[] = [];

  for (const change of [...applied].reverse()) {
    const sectionIndex = sections.findIndex((section) => sameName(section.name, change.section));
    const section = sections[sectionIndex];
    const existingKey = section === undefined ? undefined : findFieldKey(section, change.key);
    const current =
      section === undefined || existingKey === undefined
        ? null
        : (section.fields[existingKey] ?? null);
    const conflict = (detail: string): void => {
      conflicts.push({ change, current, detail });
    };

    if (options.force !== true && !sameField(current, change.after)) {
      conflict(`${change.section} › ${change.key} changed after this revision`);
      continue;
    }
    if (
      textProblem(change.section, MAX_SECTION_NAME_LENGTH, true) !== null ||
      textProblem(change.key, MAX_KEY_LENGTH, true) !== null
    ) {
      conflict('the stored history names an invalid section or key');
      continue;
    }
    let target: ProfileField | null = null;
    if (change.before !== null) {
      const checked = validateField(change.before, 'before');
      if (!checked.ok) {
        conflict(`the stored history of ${change.section} › ${change.key} is damaged`);
        continue;
      }
      target = checked.value;
    }
    if (sameField(current, target)) continue;

    const fieldKey = existingKey ?? change.key;
    if (section === undefined) {
      // current is null here, so target is a field to bring back into a section that is gone.
      if (sections.length >= MAX_SECTIONS) {
        conflict(`there is no room for the section ${change.section}`);
        continue;
      }
    } else if (
      existingKey === undefined &&
      Object.keys(section.fields).length >= MAX_FIELDS_PER_SECTION
    ) {
      conflict(`${section.name} has no room for ${change.key}`);
      continue;
    }
    const base: ProfileSection = section ?? {
      name: change.section,
      builtIn: sectionTemplate(change.section) !== undefined,
      fields: {},
    };
    const fields =
      target === null
        ? Object.fromEntries(Object.entries(base.fields).filter(([key]) => key !== fieldKey))
        : { ...base.fields, [fieldKey]: target };
    const updated: ProfileSection = { ...base, fields };
    if (section === undefined) sections.push(updated);
    else sections[sectionIndex] = updated;
    undone.push({
      op: target === null ? 'remove' : 'set',
      section: base.name,
      key: fieldKey,
      before: current,
      after: target,
      evidence: null,
    });
  }

  if (undone.length === 0) return { profile, applied: undone, conflicts };
  return { profile: { sections, updatedAt: now }, applied: undone, conflicts };
}
