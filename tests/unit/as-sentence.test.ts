import { describe, expect, it } from 'vitest';
import { asSentence } from '../../src/core/format';

describe('asSentence (issue 12)', () => {
  it('ends joined refusal messages with exactly one full stop', () => {
    expect(
      `${asSentence('profile.sections[0].name uses a reserved name')} Nothing was changed.`,
    ).toBe('profile.sections[0].name uses a reserved name. Nothing was changed.');
    expect(asSentence('The profile has more than 12 sections.')).toBe(
      'The profile has more than 12 sections.',
    );
    expect(asSentence('Too large.. ')).toBe('Too large.');
    expect(asSentence('Update Persona and try again?')).toBe('Update Persona and try again?');
  });
});
