import { applyChanges } from '../profile/apply';
import type { AppliedChange, Profile, RejectedChange } from '../profile/types';
import { parseOptimizerOutput } from './parse';
import type { OptimizerSession } from './transcript';
import type { Result } from '../result';

/**
 * The whole path from the optimizer's raw text to a new profile: parse and ground the evidence,
 * then apply with the optimizer's restricted rights. Rejections from both steps come back
 * together, in that order, so the caller can record every dropped proposal and why.
 */

export type OptimizerOutcome = Result<{
  profile: Profile;
  applied: AppliedChange[];
  rejected: RejectedChange[];
}>;

export function applyOptimizerOutput(
  text: string,
  context: { profile: Profile; sessions: readonly OptimizerSession[]; now: number },
): OptimizerOutcome {
  const parsed = parseOptimizerOutput(text, context);
  if (!parsed.ok) return parsed;
  const result = applyChanges(context.profile, parsed.changes, {
    actor: 'optimizer',
    now: context.now,
  });
  return {
    ok: true,
    profile: result.profile,
    applied: result.applied,
    rejected: [...parsed.rejected, ...result.rejected],
  };
}
