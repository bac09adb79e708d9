import { AppError } from '../core/errors';
import { asSentence } from '../core/format';
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
import { exportProfile, MAX_IMPORT_CHARS, parseProfileImport } from '../core/profile/import-export';
import { revertChanges } from '../core/profile/revert';
import type {
  AppliedChange,
  Profile,
  ProfileRevision,
  RevisionOrigin,
} from '../core/profile/types';
import {
  commitRevision,
  getAllSettings,
  getProfile,
  listJobs,
  listPendingProposals,
  listRevisions,
  resolveProposal,
  setSetting,
  type Job,
  type PersonaDatabase,
  type Proposal,
  type Settings,
} from '../db';
import { DEFAULT_SETTINGS } from '../db/settings';
import type { AssistantClient } from './assistant-client';
import { LiveValue } from './live-query.svelte';
import { learningNotice } from './learning-notice';

/** The settings the profile page controls. */
export type LearningSettingsValue = Pick<
  Settings,
  'personalization' | 'learningMode' | 'optimizeEvery' | 'sessionIdleMinutes' | 'profileTokenBudget'
>;

/** The profile dictionary as the user sees and controls it: fields, history, review queue. */
export class ProfileState {
  readonly #db: PersonaDatabase;
  readonly #client: AssistantClient;
  readonly current: LiveValue<{ profile: Profile; revision: number } | null>;
  readonly revisions: LiveValue<ProfileRevision[]>;
  readonly proposals: LiveValue<Proposal[]>;
  readonly jobs: LiveValue<Job[]>;
  readonly settings: LiveValue<Settings>;
  #error = $state<string | null>(null);
  /** What the last "Update profile now" found, when its result does not show elsewhere. */
  #notice = $state<string | null>(null);
  #updating = $state(false);
  /** Revisions up to this number have been seen; newer learned ones raise a notice. */
  #seenRevision = $state<number | null>(null);

  constructor(db: PersonaDatabase, client: AssistantClient) {
    this.#db = db;
    this.#client = client;
    this.current = new LiveValue(() => getProfile(db), null);
    this.revisions = new LiveValue(() => listRevisions(db), []);
    this.proposals = new LiveValue(() => listPendingProposals(db), []);
    this.jobs = new LiveValue(() => listJobs(db, { limit: 10 }), []);
    this.settings = new LiveValue(() => getAllSettings(db), { ...DEFAULT_SETTINGS });
  }

  get error(): string | null {
    return this.#error;
  }
  get notice(): string | null {
    return this.#notice;
  }
  get updating(): boolean {
    return this.#updating;
  }

  dismissError(): void {
    this.#error = null;
  }

  /** The newest revisions the optimizer made since the user last looked: for the notice. */
  get unseenLearned(): ProfileRevision[] {
    const seen = this.#seenRevision;
    const all = this.revisions.value;
    if (seen === null) {
      // The first time revisions are known, all of them count as seen.
      return [];
    }
    return all.filter((r) => r.number > seen && r.origin === 'optimizer');
  }

  markSeen(): void {
    this.#seenRevision = this.revisions.value[0]?.number ?? 0;
  }

  /** Starts the notice bookkeeping once the stored history is known. */
  async init(): Promise<void> {
    const revisions = await listRevisions(this.#db);
    this.#seenRevision = revisions[0]?.number ?? 0;
  }

  setField(section: string, key: string, value: string): Promise<void> {
    return this.#edit(
      (profile, now) =>
        applyChanges(profile, [userSetChange(section, key, value)], { actor: 'user', now }),
      'user',
      `Set ${key}`,
    );
  }

  removeField(section: string, key: string): Promise<void> {
    return this.#edit(
      (profile, now) =>
        applyChanges(profile, [userRemoveChange(section, key)], { actor: 'user', now }),
      'user',
      `Forgot ${key}`,
    );
  }

  /** Forgets several fields in one revision, e.g. what was learned only from a deleted chat. */
  removeFields(
    fields: readonly { section: string; key: string }[],
    summary: string,
  ): Promise<void> {
    return this.#edit(
      (profile, now) =>
        applyChanges(
          profile,
          fields.map((f) => userRemoveChange(f.section, f.key)),
          { actor: 'user', now },
        ),
      'user',
      summary,
    );
  }

  toggleLock(section: string, key: string): Promise<void> {
    return this.#edit(
      (profile, now) => {
        const field = profile.sections.find((s) => s.name === section)?.fields[key];
        return setFieldLocked(profile, section, key, !(field?.locked ?? false), now);
      },
      'user',
      `Lock or unlock ${key}`,
    );
  }

  async addSection(name: string): Promise<void> {
    // An empty section changes no field, so it is saved without a history entry.
    await this.#edit(
      (profile, now) => addSection(profile, name, now),
      'user',
      `Added section ${name}`,
      true,
    );
  }

  async removeSection(name: string): Promise<void> {
    await this.#edit(
      (profile, now) => removeSection(profile, name, now),
      'user',
      `Removed section ${name}`,
      true,
    );
  }

  revertRevision(revision: ProfileRevision): Promise<void> {
    return this.#revert(revision.changes, `Undid #${revision.number}`);
  }

  revertChange(revision: ProfileRevision, change: AppliedChange): Promise<void> {
    return this.#revert([change], `Reverted ${change.key} from #${revision.number}`);
  }

  async accept(proposal: Proposal): Promise<void> {
    await this.#guard(async () => {
      const { profile, revision } = await getProfile(this.#db);
      // Checked again now: the user may have locked or edited the field since it was proposed.
      const result = applyChanges(profile, [proposal.change], {
        actor: 'optimizer',
        now: Date.now(),
      });
      if (result.applied.length === 0) {
        await resolveProposal(this.#db, proposal.id, 'rejected');
        this.#error = `Not applied: ${result.rejected[0]?.detail ?? 'it no longer fits the profile'}.`;
        return;
      }
      await this.#commit(
        revision,
        result.profile,
        'review',
        result.applied,
        `Accepted ${proposal.change.key}`,
        [proposal.id],
      );
    });
  }

  async reject(proposal: Proposal): Promise<void> {
    await this.#guard(() => resolveProposal(this.#db, proposal.id, 'rejected'));
  }

  async updateNow(activeConversationId: string | null): Promise<void> {
    this.#updating = true;
    this.#notice = null;
    try {
      await this.#guard(async () => {
        const outcome = await this.#client.api.learning.schedule({
          activeConversationId,
          force: true,
        });
        this.#notice = learningNotice(outcome);
      });
    } finally {
      this.#updating = false;
    }
  }

  /** Asks the worker to learn from sessions that have ended, every k of them. */
  async schedule(activeConversationId: string | null): Promise<void> {
    try {
      await this.#client.api.learning.schedule({ activeConversationId });
    } catch {
      // Scheduling is opportunistic; a failed run is recorded on its job.
    }
  }

  async updateSettings(change: Partial<LearningSettingsValue>): Promise<void> {
    await this.#guard(async () => {
      const {
        personalization,
        learningMode,
        optimizeEvery,
        sessionIdleMinutes,
        profileTokenBudget,
      } = change;
      if (personalization !== undefined)
        await setSetting(this.#db, 'personalization', personalization);
      if (learningMode !== undefined) await setSetting(this.#db, 'learningMode', learningMode);
      if (optimizeEvery !== undefined) await setSetting(this.#db, 'optimizeEvery', optimizeEvery);
      if (sessionIdleMinutes !== undefined)
        await setSetting(this.#db, 'sessionIdleMinutes', sessionIdleMinutes);
      if (profileTokenBudget !== undefined)
        await setSetting(this.#db, 'profileTokenBudget', profileTokenBudget);
    });
  }

  exportJson(): string {
    const current = this.current.value;
    const file = exportProfile(
      current?.profile ?? { sections: [], updatedAt: 0 },
      Date.now(),
      this.revisions.value,
    );
    return JSON.stringify(file, null, 2);
  }

  /** Replaces the profile with an imported one, as one revision that can be undone. */
  async importText(text: string): Promise<boolean> {
    if (text.length > MAX_IMPORT_CHARS) {
      this.#error = `The file is too large to be a profile (over ${MAX_IMPORT_CHARS.toLocaleString()} characters). Nothing was changed.`;
      return false;
    }
    const parsed = parseProfileImport(text, Date.now());
    if (!parsed.ok) {
      this.#error = `This file cannot be imported: ${asSentence(parsed.error)} Nothing was changed.`;
      return false;
    }
    const imported = parsed.profile;
    let done = false;
    await this.#guard(async () => {
      const { profile, revision } = await getProfile(this.#db);
      const changes = diffProfiles(profile, imported);
      const what = parsed.format === 'personabench' ? 'PersonaBench persona' : 'profile';
      await this.#commit(revision, imported, 'import', changes, `Imported a ${what}`);
      done = true;
    });
    return done;
  }

  async #revert(changes: readonly AppliedChange[], summary: string): Promise<void> {
    // `force`: undoing restores what the user saw before, even if the field changed since.
    await this.#edit(
      (profile, now) => {
        const result = revertChanges(profile, changes, now, { force: true });
        return { profile: result.profile, applied: result.applied, rejected: [] };
      },
      'revert',
      summary,
    );
  }

  async #edit(
    change: (profile: Profile, now: number) => ApplyResult,
    origin: RevisionOrigin,
    summary: string,
    allowNoChanges = false,
  ): Promise<void> {
    await this.#guard(async () => {
      const { profile, revision } = await getProfile(this.#db);
      const result = change(profile, Date.now());
      if (result.applied.length === 0 && !(allowNoChanges && result.rejected.length === 0)) {
        const why = result.rejected[0]?.detail;
        if (why) this.#error = `Not changed: ${why}.`;
        return;
      }
      await this.#commit(revision, result.profile, origin, result.applied, summary);
    });
  }

  /** Stores a new profile as the next revision; refused if another tab or the optimizer got there first. */
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
      revision: { id: crypto.randomUUID(), createdAt: Date.now(), origin, changes, summary },
      ...(proposalsResolved ? { proposalsResolved } : {}),
    });
  }

  async #guard(work: () => Promise<unknown>): Promise<void> {
    this.#error = null;
    try {
      await work();
    } catch (error) {
      this.#error =
        error instanceof AppError || error instanceof Error ? error.message : String(error);
    }
  }
}
