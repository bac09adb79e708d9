/**
 * The learnable profile dictionary (AI PERSONA, arXiv 2412.13103): sections of short fields that
 * an on-device optimizer updates from conversations and the user can edit, lock and undo.
 * Plain data: stored in IndexedDB, sent across the worker boundary, exported as JSON.
 */

/** Where a learned value came from: the user's own words in a stored message. */
export interface Evidence {
  conversationId: string;
  messageId: string;
  /** A short verbatim quote of the user's message (never the assistant's). */
  quote: string;
}

/** Who set a field: the optimizer (learned) or the user (never overwritten by the optimizer). */
export type FieldSource = 'learned' | 'user';

export interface ProfileField {
  value: string;
  /** Milliseconds since the epoch. */
  updatedAt: number;
  source: FieldSource;
  /** A locked field is never changed by the optimizer. */
  locked: boolean;
  /** Newest first; empty for user-set values. */
  evidence: Evidence[];
}

export interface ProfileSection {
  /** Display name and key, e.g. `Demographics`. Unique, case-insensitively. */
  name: string;
  /** Sections the app defines; the user may add others. */
  builtIn: boolean;
  /** Field key (e.g. `Location`) to field; keys unique case-insensitively within a section. */
  fields: Record<string, ProfileField>;
}

export interface Profile {
  /** In display order. */
  sections: ProfileSection[];
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
}

/** One change to the dictionary, as the optimizer proposes it after validation, or the user makes it. */
export type ProfileChange =
  | {
      op: 'set';
      section: string;
      key: string;
      value: string;
      evidence: Evidence | null;
    }
  | {
      op: 'remove';
      section: string;
      key: string;
      evidence: Evidence | null;
    };

/** A change as it was applied: what the field was before and after, for history and revert. */
export interface AppliedChange {
  op: 'set' | 'remove';
  section: string;
  key: string;
  before: ProfileField | null;
  after: ProfileField | null;
  evidence: Evidence | null;
}

export type RevisionOrigin = 'optimizer' | 'user' | 'review' | 'revert' | 'import';

/** One step in the profile's history. Revisions are numbered from 1 and never rewritten. */
export interface ProfileRevision {
  id: string;
  number: number;
  createdAt: number;
  origin: RevisionOrigin;
  changes: AppliedChange[];
  /** Short human summary, e.g. `Learned 2 things` or `Undid revision 4`. */
  summary: string;
}

/** Why the optimizer dropped a proposed change; recorded so nothing is silently lost. */
export type RejectionReason =
  | 'invalid-shape'
  | 'unknown-section'
  | 'too-long'
  | 'evidence-not-found'
  | 'evidence-not-from-user'
  | 'evidence-not-a-statement'
  | 'value-not-in-evidence'
  | 'duplicate'
  | 'locked'
  | 'user-set'
  | 'unchanged'
  | 'too-many-changes'
  | 'missing-field';

export interface RejectedChange {
  raw: unknown;
  reason: RejectionReason;
  detail: string;
}
