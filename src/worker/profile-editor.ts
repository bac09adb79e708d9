/**
 * The user's changes to their profile, applied in the worker: the one writer of the database
 * (issue 9). The rules are `core/profile`'s; this module reads the profile as it is now, applies
 * one edit, and stores the result as the next revision, so an edit and a profile update that land
 * together cannot overwrite each other (the later one is refused, or retried by the optimizer).
 */
import {
  addSection,
  applyChanges,
  removeSection,
  setFieldLocked,
  userRemoveChange,
  userSetChange,
  type ApplyResult,
} from '../core/profile/apply';
import { diffProfiles } from '../core/profile/diff';
import { asSentence } from '../core/format';
import { MAX_IMPORT_CHARS, parseProfileImport } from '../core/profile/import-export';
import { revertChanges } from '../core/profile/revert';
import type { AppliedChange, Profile, RevisionOrigin } from '../core/profile/types';
import {
  commitRevision,
  getProfile,
  getRevision,
  listPendingProposals,
  resolveProposal,
  type PersonaDatabase,
} from '../db';
import type { EditOutcome, ProfileEdit } from './contract';

const changed: EditOutcome = { changed: true };
/** `message` is shown to the user as it is. */
const refused = (message: string): EditOutcome => ({ changed: false, refused: message });

export class ProfileEditor {
  readonly #db: PersonaDatabase;
  readonly #clock: () => number;

  constructor(db: PersonaDatabase, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  async edit(edit: ProfileEdit): Promise<EditOutcome> {
    switch (edit.kind) {
      case 'set':
        return this.#apply(
          (profile, now) =>
            applyChanges(profile, [userSetChange(edit.section, edit.key, edit.value)], {
              actor: 'user',
              now,
            }),
          'user',
          `Set ${edit.key}`,
        );
      case 'remove':
        return this.#apply(
          (profile, now) =>
            applyChanges(
              profile,
              edit.fields.map((f) => userRemoveChange(f.section, f.key)),
              { actor: 'user', now },
            ),
          'user',
          edit.summary ??
            (edit.fields.length === 1 ? `Forgot ${edit.fields[0]?.key ?? ''}` : 'Forgot fields'),
        );
      case 'lock':
        return this.#apply(
          (profile, now) => {
            const field = profile.sections.find((s) => s.name === edit.section)?.fields[edit.key];
            return setFieldLocked(profile, edit.section, edit.key, !(field?.locked ?? false), now);
          },
          'user',
          `Lock or unlock ${edit.key}`,
        );
      case 'add-section':
        // An empty section changes no field, so it is saved without a history entry.
        return this.#apply(
          (profile, now) => addSection(profile, edit.name, now),
          'user',
          `Added section ${edit.name}`,
          true,
        );
      case 'remove-section':
        return this.#apply(
          (profile, now) => removeSection(profile, edit.name, now),
          'user',
          `Removed section ${edit.name}`,
          true,
        );
      case 'revert':
        return this.#revert(edit.revisionId, edit.changeIndex);
      case 'import':
        return this.#import(edit.text);
    }
  }

  async acceptProposal(proposalId: string): Promise<EditOutcome> {
    const proposal = (await listPendingProposals(this.#db)).find((p) => p.id === proposalId);
    if (!proposal) return refused('Not applied: this proposal was already decided.');
    const { profile, revision } = await getProfile(this.#db);
    // Checked again now: the user may have locked or edited the field since it was proposed.
    const result = applyChanges(profile, [proposal.change], {
      actor: 'optimizer',
      now: this.#clock(),
    });
    if (result.applied.length === 0) {
      await resolveProposal(this.#db, proposal.id, 'rejected');
      return refused(
        `Not applied: ${result.rejected[0]?.detail ?? 'it no longer fits the profile'}.`,
      );
    }
    await this.#commit(
      revision,
      result.profile,
      'review',
      result.applied,
      `Accepted ${proposal.change.key}`,
      [proposal.id],
    );
    return changed;
  }

  async rejectProposal(proposalId: string): Promise<void> {
    await resolveProposal(this.#db, proposalId, 'rejected');
  }

  async #revert(revisionId: string, changeIndex: number | undefined): Promise<EditOutcome> {
    const revision = await getRevision(this.#db, revisionId);
    if (!revision) return refused('Not changed: that history entry is no longer stored.');
    const change = changeIndex === undefined ? undefined : revision.changes[changeIndex];
    if (changeIndex !== undefined && !change) {
      return refused('Not changed: that change is not in the entry.');
    }
    const changes: readonly AppliedChange[] = change ? [change] : revision.changes;
    const summary = change
      ? `Reverted ${change.key} from #${revision.number}`
      : `Undid #${revision.number}`;
    // `force`: undoing restores what the user saw before, even if the field changed since.
    return this.#apply(
      (profile, now) => {
        const result = revertChanges(profile, changes, now, { force: true });
        return { profile: result.profile, applied: result.applied, rejected: [] };
      },
      'revert',
      summary,
    );
  }

  async #import(text: string): Promise<EditOutcome> {
    if (text.length > MAX_IMPORT_CHARS) {
      return refused(
        `The file is too large to be a profile (over ${MAX_IMPORT_CHARS.toLocaleString()} characters). Nothing was changed.`,
      );
    }
    const parsed = parseProfileImport(text, this.#clock());
    if (!parsed.ok) {
      return refused(
        `This file cannot be imported: ${asSentence(parsed.error)} Nothing was changed.`,
      );
    }
    const { profile, revision } = await getProfile(this.#db);
    const changes = diffProfiles(profile, parsed.profile);
    const what = parsed.format === 'personabench' ? 'PersonaBench persona' : 'profile';
    await this.#commit(revision, parsed.profile, 'import', changes, `Imported a ${what}`);
    return changed;
  }

  async #apply(
    change: (profile: Profile, now: number) => ApplyResult,
    origin: RevisionOrigin,
    summary: string,
    allowNoChanges = false,
  ): Promise<EditOutcome> {
    const { profile, revision } = await getProfile(this.#db);
    const result = change(profile, this.#clock());
    if (result.applied.length === 0 && !(allowNoChanges && result.rejected.length === 0)) {
      const why = result.rejected[0]?.detail;
      return why ? refused(`Not changed: ${why}.`) : { changed: false };
    }
    await this.#commit(revision, result.profile, origin, result.applied, summary);
    return changed;
  }

  /** The next revision; refused if the optimizer or another edit got there first. */
  async #commit(
    expectedRevision: number,
    profile: Profile,
    origin: RevisionOrigin,
    changes: AppliedChange[],
    summary: string,
    proposalsResolved?: string[],
  ): Promise<void> {
    await commitRevision(this.#db, {
      expectedRevision,
      profile,
      revision: { id: crypto.randomUUID(), createdAt: this.#clock(), origin, changes, summary },
      ...(proposalsResolved ? { proposalsResolved } : {}),
    });
  }
}
