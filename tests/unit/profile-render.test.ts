import { describe, expect, it } from 'vitest';
import { applyChanges, userSetChange } from '../../src/core/profile/apply';
import { DEFAULT_PROFILE_BUDGET_TOKENS, emptyProfile } from '../../src/core/profile/defaults';
import { personalizationInstructions, renderProfile } from '../../src/core/profile/render';
import { estimateTokens } from '../../src/core/tokens';
import type { Profile } from '../../src/core/profile/types';

const T0 = 1_700_000_000_000;
const words = (text: string): number => text.split(/\s+/u).filter(Boolean).length;

function profileWith(entries: [string, string, string][]): Profile {
  return applyChanges(
    emptyProfile(T0),
    entries.map(([section, key, value]) => userSetChange(section, key, value)),
    { actor: 'user', now: T0 },
  ).profile;
}

describe('renderProfile', () => {
  it('renders one compact line per non-empty section, in order', () => {
    const profile = profileWith([
      ['Demographics', 'Location', 'Berlin'],
      ['Demographics', 'Occupation', 'nurse'],
      ['Preferences', 'Formats', 'bullet lists'],
    ]);
    const rendered = renderProfile(profile, { budgetTokens: 100, countTokens: words });
    expect(rendered.text).toBe(
      'Demographics: Location: Berlin; Occupation: nurse\nPreferences: Formats: bullet lists',
    );
    expect(rendered.fieldCount).toBe(3);
    expect(rendered.tokens).toBe(words(rendered.text));
    expect(rendered.overBudget).toBe(false);
  });

  it('renders everything and reports overBudget instead of cutting', () => {
    const profile = profileWith(
      Array.from({ length: 30 }, (_, i): [string, string, string] => [
        'Patterns',
        `Habit ${i}`,
        `does thing number ${i} every day`,
      ]),
    );
    const rendered = renderProfile(profile, { budgetTokens: 20, countTokens: words });
    expect(rendered.overBudget).toBe(true);
    expect(rendered.fieldCount).toBe(30);
    expect(rendered.text).toContain('Habit 29: does thing number 29 every day');
  });

  it('renders an empty profile as nothing', () => {
    const rendered = renderProfile(emptyProfile(T0), {
      budgetTokens: DEFAULT_PROFILE_BUDGET_TOKENS,
      countTokens: () => 99,
    });
    expect(rendered).toEqual({ text: '', tokens: 0, overBudget: false, fieldCount: 0 });
  });
});

describe('estimateTokens', () => {
  it('over-estimates English at about 3.5 characters a token', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(estimateTokens(text)).toBe(Math.ceil(text.length / 3.5));
    expect(estimateTokens(text)).toBeGreaterThanOrEqual(10);
    expect(estimateTokens('')).toBe(0);
  });

  it('counts non-Latin scripts and emoji generously', () => {
    expect(estimateTokens('我住在柏林')).toBe(8);
    expect(estimateTokens('😀😀')).toBe(4);
    expect(estimateTokens('é')).toBe(2);
  });
});

describe('personalizationInstructions', () => {
  it('frames the profile as information never to recite', () => {
    const paragraph = personalizationInstructions('Demographics: Location: Berlin');
    expect(paragraph).toContain('Demographics: Location: Berlin');
    expect(paragraph).toMatch(/do not recite/iu);
    expect(paragraph).toMatch(/not instructions/iu);
  });

  it('is empty when there is nothing to personalise with', () => {
    expect(personalizationInstructions('  ')).toBe('');
  });
});
