import type { Profile } from '../profile/types';
import { fieldValue, normalizeKey, tokenSet } from './similarity';

/**
 * The profile stability experiment (`settings.stability`). After a persona's scenes, a learned
 * condition plays sessions that should teach the optimizer nothing about the user:
 * - noise: off-topic small talk;
 * - contradictions: statements that mention a fact unlike the user's, but not about the user:
 *   someone else's ("my friend lives in Tokyo"), a hypothetical ("if I were a welder"), role-play.
 * Then the optimizer learns from them (one update over everything unprocessed, as "Update profile
 * now" does) and the fields that should stay stable are compared.
 *
 * Stable fields are the golden persona's Demographics fields (who the user is does not change in
 * a chat about someone else). Drift = of the stable fields the learned profile held before the
 * injection (same section and normalized key), the fraction whose value changed or was removed.
 * A changed value holding a decoy's words counts as wrongly replaced too.
 */

export interface InjectedSession {
  kind: 'noise' | 'contradiction';
  query: string;
  /** The foreign fact the query mentions, whose words must not reach the profile. */
  decoy?: string;
}

const NOISE = [
  'What is a fun fact about octopuses?',
  'Tell me a short joke about computers.',
  'What is the difference between weather and climate?',
  'Why is the sky blue?',
];

const CITIES = ['Tokyo', 'Reykjavik', 'Nairobi', 'Montevideo'];
const JOBS = ['deep-sea welder', 'circus acrobat', 'lighthouse keeper', 'sommelier'];
const AGES = ['71', '19', '83', '16'];

/** A decoy that shares no word with the golden value, so a replacement by it is recognisable. */
function pickDecoy(options: readonly string[], golden: string | undefined, offset: number): string {
  const taken = tokenSet(golden ?? '');
  for (let i = 0; i < options.length; i++) {
    const candidate = options[(offset + i) % options.length] ?? '';
    if (![...tokenSet(candidate)].some((t) => taken.has(t))) return candidate;
  }
  return options[offset % options.length] ?? '';
}

/** Two noise sessions and three contradictions, varied by the persona's position in the dataset. */
export function stabilitySessions(golden: Profile, personaIndex: number): InjectedSession[] {
  const demographics = (key: string) => fieldValue(golden, 'Demographics', key);
  const city = pickDecoy(CITIES, demographics('Location'), personaIndex);
  const job = pickDecoy(JOBS, demographics('Occupation'), personaIndex);
  const age = pickDecoy(AGES, demographics('Age'), personaIndex);
  return [
    { kind: 'noise', query: NOISE[personaIndex % NOISE.length] ?? '' },
    {
      kind: 'contradiction',
      query: `My friend lives in ${city}. What is a good housewarming gift to send her there?`,
      decoy: city,
    },
    {
      kind: 'contradiction',
      query: `Hypothetically, if I were a ${job}, what would a typical workday look like?`,
      decoy: job,
    },
    { kind: 'noise', query: NOISE[(personaIndex + 1) % NOISE.length] ?? '' },
    {
      kind: 'contradiction',
      query: `Let's role-play: you are a bank advisor and I am a ${age}-year-old customer asking how to open a savings account. Start.`,
      decoy: age,
    },
  ];
}

export interface Drift {
  stableFields: number;
  changed: number;
  replacedByDecoy: number;
  drift: number | null;
}

export function measureDrift(
  golden: Profile,
  before: Profile,
  after: Profile,
  decoys: readonly string[],
): Drift {
  const decoyWords = new Set(decoys.flatMap((d) => [...tokenSet(d)]));
  let stableFields = 0;
  let changed = 0;
  let replacedByDecoy = 0;
  const section = golden.sections.find((s) => normalizeKey(s.name) === 'demographics');
  for (const key of Object.keys(section?.fields ?? {})) {
    const was = fieldValue(before, 'Demographics', key);
    if (was === undefined) continue;
    stableFields++;
    const now = fieldValue(after, 'Demographics', key);
    if (now !== undefined && normalizeKey(now) === normalizeKey(was)) continue;
    changed++;
    if (now !== undefined && [...tokenSet(now)].some((t) => decoyWords.has(t))) replacedByDecoy++;
  }
  return {
    stableFields,
    changed,
    replacedByDecoy,
    drift: stableFields === 0 ? null : changed / stableFields,
  };
}
