import { AppError } from '../core/errors';
import { exportProfile } from '../core/profile/import-export';
import type { AppliedChange, Profile, ProfileRevision } from '../core/profile/types';
import type { Job, Proposal, Settings } from '../db';
import { DEFAULT_SETTINGS } from '../db/settings';
import type { EditOutcome, ProfileEdit } from '../worker/contract';
import type { AssistantClient } from './assistant-client';
import { LiveValue } from './live-query.svelte';
import { learningNotice } from './learning-notice';
import type { ProfileReads } from './database-reads';

/** The settings the profile page controls. */
export type LearningSettingsValue = Pick<
  Settings,
  'personalization' | 'learningMode' | 'optimizeEvery' | 'sessionIdleMinutes' | 'profileTokenBudget'
>;

/** The profile dictionary as the user sees and controls it: fields, history, review queue. */
export class ProfileState {
  readonly #reads: ProfileReads;
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

  constructor(reads: ProfileReads, client: AssistantClient) {
    this.#reads = reads;
    this.#client = client;
    this.current = new LiveValue(() => reads.profile(), null);
    this.revisions = new LiveValue(() => reads.revisions(), []);
    this.proposals = new LiveValue(() => reads.pendingProposals(), []);
    this.jobs = new LiveValue(() => reads.recentJobs(10), []);
    this.settings = new LiveValue(() => reads.settings(), { ...DEFAULT_SETTINGS });
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
    const revisions = await this.#reads.revisions();
    this.#seenRevision = revisions[0]?.number ?? 0;
  }

  setField(section: string, key: string, value: string): Promise<void> {
    return this.#edit({ kind: 'set', section, key, value });
  }

  removeField(section: string, key: string): Promise<void> {
    return this.#edit({ kind: 'remove', fields: [{ section, key }], summary: `Forgot ${key}` });
  }

  /** Forgets several fields in one revision, e.g. what was learned only from a deleted chat. */
  removeFields(
    fields: readonly { section: string; key: string }[],
    summary: string,
  ): Promise<void> {
    return this.#edit({ kind: 'remove', fields: [...fields], summary });
  }

  toggleLock(section: string, key: string): Promise<void> {
    return this.#edit({ kind: 'lock', section, key });
  }

  async addSection(name: string): Promise<void> {
    await this.#edit({ kind: 'add-section', name });
  }

  async removeSection(name: string): Promise<void> {
    await this.#edit({ kind: 'remove-section', name });
  }

  revertRevision(revision: ProfileRevision): Promise<void> {
    return this.#edit({ kind: 'revert', revisionId: revision.id });
  }

  revertChange(revision: ProfileRevision, change: AppliedChange): Promise<void> {
    // By field, not identity: the UI's copy of the revision is a reactive proxy of its own.
    const changeIndex = revision.changes.findIndex(
      (c) => c.section === change.section && c.key === change.key,
    );
    return this.#edit({
      kind: 'revert',
      revisionId: revision.id,
      ...(changeIndex >= 0 ? { changeIndex } : {}),
    });
  }

  async accept(proposal: Proposal): Promise<void> {
    await this.#guard(async () => {
      this.#show(await this.#client.api.profile.acceptProposal(proposal.id));
    });
  }

  async reject(proposal: Proposal): Promise<void> {
    await this.#guard(() => this.#client.api.profile.rejectProposal(proposal.id));
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

  async updateSettings(change: Partial<LearningSettingsValue>): Promise<void> {
    await this.#guard(() => this.#client.api.profile.updateSettings(change));
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
    let done = false;
    await this.#guard(async () => {
      const outcome = await this.#client.api.profile.edit({ kind: 'import', text });
      this.#show(outcome);
      done = outcome.changed;
    });
    return done;
  }

  async #edit(edit: ProfileEdit): Promise<void> {
    await this.#guard(async () => {
      this.#show(await this.#client.api.profile.edit(edit));
    });
  }

  #show(outcome: EditOutcome): void {
    if (outcome.refused) this.#error = outcome.refused;
  }

  async #guard(work: () => Promise<unknown>): Promise<void> {
    this.#error = null;
    try {
      await work();
    } catch (error) {
      this.#error = AppError.from(error).message;
    }
  }
}
