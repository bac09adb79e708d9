/**
 * Evidence: the quotes that tie learned fields to the conversations they came from. A deleted
 * conversation takes the user's words with it, so its quotes leave the profile, the revision
 * history and the proposals too. The values learned from it stay unless the caller removes them
 * (`fieldsLearnedOnlyFrom` tells which fields came from it alone).
 */
import type {
  AppliedChange,
  Evidence,
  Profile,
  ProfileChange,
  ProfileField,
} from '../core/profile/types';
import type { PersonaDatabase } from './database';
import { PROFILE_ROW_ID, type Proposal } from './records';

/** A field of the profile, by section name and field key. */
export interface FieldRef {
  section: string;
  key: string;
}

type Conversations = ReadonlySet<string>;

const isFrom = (evidence: Evidence | null, gone: Conversations): boolean =>
  evidence !== null && gone.has(evidence.conversationId);

/**
 * Fields whose evidence all comes from the conversation: learned from it alone. User-set fields
 * and fields without evidence are never listed, since deleting a conversation says nothing
 * about them.
 */
export function fieldsEvidencedOnlyBy(profile: Profile, conversationId: string): FieldRef[] {
  return profile.sections.flatMap((section) =>
    Object.entries(section.fields)
      .filter(
        ([, field]) =>
          evidenceOf(field).length > 0 &&
          evidenceOf(field).every((evidence) => evidence.conversationId === conversationId),
      )
      .map(([key]) => ({ section: section.name, key })),
  );
}

// The strip functions return their argument itself when nothing was removed, so callers can
// skip writing rows that did not change.

function fieldWithout(field: ProfileField, gone: Conversations): ProfileField {
  const all = evidenceOf(field);
  const evidence = all.filter((item) => !gone.has(item.conversationId));
  return evidence.length === all.length ? field : { ...field, evidence };
}

/**
 * The profile without evidence from the given conversations. Values and `updatedAt` stay: what
 * the profile says did not change, only what it can point to.
 */
export function profileWithoutEvidenceFrom(profile: Profile, gone: Conversations): Profile {
  const sections = profile.sections.map((section) => {
    const entries = Object.entries(section.fields);
    const stripped = entries.map(([key, field]) => [key, fieldWithout(field, gone)] as const);
    return stripped.every(([, field], index) => field === entries[index]?.[1])
      ? section
      : { ...section, fields: Object.fromEntries(stripped) };
  });
  return unchanged(sections, profile.sections) ? profile : { ...profile, sections };
}

/** Applied changes (a revision's history) without evidence from the given conversations. */
export function appliedChangesWithoutEvidenceFrom(
  changes: AppliedChange[],
  gone: Conversations,
): AppliedChange[] {
  const stripped = changes.map((change) => {
    const before = change.before && fieldWithout(change.before, gone);
    const after = change.after && fieldWithout(change.after, gone);
    const evidence = isFrom(change.evidence, gone) ? null : change.evidence;
    return before === change.before && after === change.after && evidence === change.evidence
      ? change
      : { ...change, before, after, evidence };
  });
  return unchanged(stripped, changes) ? changes : stripped;
}

const unchanged = <T>(mapped: readonly T[], original: readonly T[]): boolean =>
  mapped.every((item, index) => item === original[index]);

export function changeWithoutEvidenceFrom(
  change: ProfileChange,
  gone: Conversations,
): ProfileChange {
  return isFrom(change.evidence, gone) ? { ...change, evidence: null } : change;
}

/** The conversations that evidence in a profile and in changes points to. */
export function evidenceConversationIds(
  profile: Profile | null,
  changes: readonly (AppliedChange | ProfileChange)[],
): Set<string> {
  const ids = new Set<string>();
  const add = (evidence: Evidence | null) => {
    if (evidence) ids.add(evidence.conversationId);
  };
  for (const section of profile?.sections ?? []) {
    for (const field of Object.values(section.fields)) evidenceOf(field).forEach(add);
  }
  for (const change of changes) {
    add(change.evidence);
    if ('before' in change) {
      evidenceOf(change.before).forEach(add);
      evidenceOf(change.after).forEach(add);
    }
  }
  return ids;
}

/**
 * A field's evidence, or none when the stored field is damaged: forgetting a broken field (the
 * way out its row offers) must not fail on the very damage it removes.
 */
function evidenceOf(field: ProfileField | null): readonly Evidence[] {
  const evidence: unknown = field?.evidence;
  return Array.isArray(evidence) ? (evidence as Evidence[]) : [];
}

/**
 * The ones among `ids` that are no longer stored. Writes of learned data check this inside
 * their transaction: an optimizer run that read a conversation the user then deleted must not
 * bring its quotes back.
 */
export async function missingConversations(
  db: PersonaDatabase,
  ids: ReadonlySet<string>,
): Promise<Set<string>> {
  const wanted = [...ids];
  const found = await db.conversations.bulkGet(wanted);
  return new Set(wanted.filter((_, index) => found[index] === undefined));
}

/**
 * Fields learned only from this conversation, so the UI can offer to forget them with it. Ask
 * before `deleteConversation`, which removes the evidence that tells them apart; remove them
 * with a revision (`commitRevision`). Safe to call inside `liveQuery`.
 */
export async function fieldsLearnedOnlyFrom(
  db: PersonaDatabase,
  conversationId: string,
): Promise<FieldRef[]> {
  const row = await db.profile.get(PROFILE_ROW_ID);
  return row ? fieldsEvidencedOnlyBy(row.profile, conversationId) : [];
}

/**
 * Removes a deleted conversation's quotes from the current profile, every revision and every
 * proposal. Evidence-only edits write the profile row without a new revision: the dictionary's
 * values did not change, and a revision would be an undo step that brings the quotes back.
 * Revisions are otherwise never rewritten; this is the one exception, for the user's privacy.
 * A pending proposal that rested on the conversation is rejected: its reason is gone.
 * Joins the caller's transaction, which must include `profile`, `revisions` and `proposals`.
 */
export async function removeEvidenceOfConversation(
  db: PersonaDatabase,
  conversationId: string,
  now: number = Date.now(),
): Promise<void> {
  const gone = new Set([conversationId]);

  const row = await db.profile.get(PROFILE_ROW_ID);
  if (row) {
    const profile = profileWithoutEvidenceFrom(row.profile, gone);
    if (profile !== row.profile) await db.profile.put({ ...row, profile });
  }

  // Scanned whole: evidence is not indexed, and a profile's history stays small (hundreds).
  const revisions = (await db.revisions.toArray()).flatMap((revision) => {
    const changes = appliedChangesWithoutEvidenceFrom(revision.changes, gone);
    return changes === revision.changes ? [] : [{ ...revision, changes }];
  });
  if (revisions.length > 0) await db.revisions.bulkPut(revisions);

  const proposals = (await db.proposals.toArray()).flatMap((proposal): Proposal[] => {
    const change = changeWithoutEvidenceFrom(proposal.change, gone);
    if (change === proposal.change) return [];
    return proposal.status === 'pending'
      ? [{ ...proposal, change, status: 'rejected', resolvedAt: now }]
      : [{ ...proposal, change }];
  });
  if (proposals.length > 0) await db.proposals.bulkPut(proposals);
}
