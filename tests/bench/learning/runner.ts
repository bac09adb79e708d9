/**
 * Runs one simulated user through the app's own optimizer step (`proposeProfileChanges`: the same
 * prompt, schema, temperature, retry, parse, grounding and apply code as the app and the Lab),
 * every k conversations, from an empty profile, exactly as background learning would in
 * auto mode. Returns what happened at each update; scoring is `score.ts`'s job.
 */
import { DEFAULT_PROFILE_BUDGET_TOKENS, emptyProfile } from '../../../src/core/profile/defaults';
import type { Profile } from '../../../src/core/profile/types';
import { proposeProfileChanges, type ProposeGenerate } from '../../../src/core/optimizer/propose';
import { BENCH_T0, conversationEnd, toSession, updateBatches, type BenchUser } from './dataset';

/** A change as it landed in the profile. */
export interface LandedChange {
  op: 'set' | 'remove';
  section: string;
  key: string;
  /** The value after the change ('' for a remove). */
  value: string;
  /** Conversation index the evidence came from, or null. */
  conversation: number | null;
  quote: string | null;
}

export interface UpdateAttempt {
  /** Why the answer was refused as a whole, when it was. */
  error?: string;
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
}

export interface UpdateRecord {
  conversations: number[];
  /** Whether the step produced a valid answer (possibly with no changes). */
  ok: boolean;
  error?: string;
  attempts: UpdateAttempt[];
  applied: LandedChange[];
  rejected: { reason: string; detail: string }[];
  seconds: number;
}

export interface UserRun {
  userId: string;
  updates: UpdateRecord[];
  /** Learned fields of the final profile. */
  final: { section: string; key: string; value: string }[];
}

/** Makes a generate function for one update of one user. */
export type GenerateFactory = (user: BenchUser, conversations: number[]) => ProposeGenerate;

export interface RunOptions {
  k: number;
  contextWindow: number;
  now?: () => number;
  /** Called as each update finishes, for progress. */
  onUpdate?: (record: UpdateRecord, index: number, total: number) => void;
}

function conversationOf(user: BenchUser, conversationId: string | undefined): number | null {
  if (conversationId === undefined) return null;
  const match = /\/c(\d+)$/.exec(conversationId);
  return match?.[1] !== undefined && conversationId.startsWith(`${user.id}/`)
    ? Number(match[1])
    : null;
}

export async function runUser(
  user: BenchUser,
  makeGenerate: GenerateFactory,
  options: RunOptions,
): Promise<UserRun> {
  const clock = options.now ?? (() => performance.now());
  let profile: Profile = emptyProfile(BENCH_T0);
  const updates: UpdateRecord[] = [];
  const batches = updateBatches(user.conversations.length, options.k);
  for (const batch of batches) {
    const last = batch[batch.length - 1] ?? 0;
    const started = clock();
    const result = await proposeProfileChanges(
      {
        profile,
        sessions: batch.map((c) => toSession(user, c)),
        contextWindow: options.contextWindow,
        profileTokenBudget: DEFAULT_PROFILE_BUDGET_TOKENS,
        now: conversationEnd(user, last),
      },
      makeGenerate(user, batch),
    );
    const seconds = (clock() - started) / 1000;
    const attempts = result.attempts.map(({ result: answer, error }) => ({
      ...(error === undefined ? {} : { error }),
      text: answer.text,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
      finishReason: answer.finishReason,
    }));
    const { outcome } = result;
    if (outcome.ok) profile = outcome.profile;
    updates.push({
      conversations: batch,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { error: outcome.error }),
      attempts,
      applied: outcome.ok
        ? outcome.applied.map((change) => ({
            op: change.op,
            section: change.section,
            key: change.key,
            value: change.after?.value ?? '',
            conversation: conversationOf(user, change.evidence?.conversationId),
            quote: change.evidence?.quote ?? null,
          }))
        : [],
      rejected: outcome.ok
        ? outcome.rejected.map(({ reason, detail }) => ({ reason, detail }))
        : [],
      seconds,
    });
    const record = updates[updates.length - 1];
    if (record) options.onUpdate?.(record, updates.length - 1, batches.length);
  }
  const final = profile.sections.flatMap((section) =>
    Object.entries(section.fields)
      .filter(([, field]) => field.source === 'learned')
      .map(([key, field]) => ({ section: section.name, key, value: field.value })),
  );
  return { userId: user.id, updates, final };
}
