/** The current profile dictionary: one row, read by the UI live and by the worker for prompts. */
import { emptyProfile } from '../core/profile/defaults';
import type { Profile } from '../core/profile/types';
import { mergeDuplicateEvidence } from '../core/profile/validate';
import type { PersonaDatabase } from './database';
import { PROFILE_ROW_ID } from './records';

export interface CurrentProfile {
  profile: Profile;
  /** The revision that produced it; 0 before the first. Pass it back as `expectedRevision`. */
  revision: number;
}

/**
 * The current profile and its revision number. With no row stored yet: the built-in sections
 * with no fields at revision 0, dated 0 because nothing was ever changed. Nothing is written
 * for it, so reading stays safe inside `liveQuery` and transactions.
 */
export async function getProfile(db: PersonaDatabase): Promise<CurrentProfile> {
  const row = await db.profile.get(PROFILE_ROW_ID);
  return row
    ? { profile: mergeDuplicateEvidence(row.profile), revision: row.revision }
    : { profile: emptyProfile(0), revision: 0 };
}
