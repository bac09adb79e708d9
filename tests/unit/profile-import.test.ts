import { describe, expect, it } from 'vitest';
import { applyChanges, findField, userSetChange } from '../../src/core/profile/apply';
import { MAX_SECTIONS, MAX_VALUE_LENGTH, emptyProfile } from '../../src/core/profile/defaults';
import {
  MAX_IMPORT_CHARS,
  exportProfile,
  parseProfileImport,
  validateProfile,
} from '../../src/core/profile/import-export';
import type { Profile } from '../../src/core/profile/types';

const T0 = 1_700_000_000_000;
const NOW = T0 + 5000;

function sampleProfile(): Profile {
  const learned = applyChanges(
    emptyProfile(T0),
    [
      {
        op: 'set',
        section: 'Demographics',
        key: 'Location',
        value: 'Berlin',
        evidence: { conversationId: 'c1', messageId: 'm1', quote: 'I live in Berlin' },
      },
    ],
    { actor: 'optimizer', now: T0 },
  ).profile;
  return applyChanges(learned, [userSetChange('Hobbies', 'Sport', 'chess')], {
    actor: 'user',
    now: T0,
  }).profile;
}

const englishPersona = {
  Name: 'Alex Doe',
  Demographics: {
    Age: 34,
    Gender: 'Female',
    Nationality: 'Canadian',
    Language: ['English', 'French'],
    Career_Information: 'Pediatric nurse at a city hospital',
  },
  Personality: {
    Extraversion_or_Introversion: 'I',
    Sensing_or_Intuition: 'N',
    Thinking_or_Feeling: 'F',
    Judging_or_Perceiving: 'j',
    Values_and_Interests: ['family', 'hiking', 'sustainability'],
  },
  Pattern: {
    Behavior_Engagement_Pattern: 'Checks in late at night after shifts',
    Usage_Pattern: 'Short questions on mobile',
    Emotion_Pattern: 'Calm, sometimes anxious before exams',
    Purchase_Pattern: 'Buys second-hand',
  },
  Preference: {
    Preferred_Styles: 'Warm and direct',
    Preferred_Formats: 'Bullet lists',
    Preferred_Workflows: 'Step-by-step checklists',
  },
  scenes: [{ dialogue: [{ role: 'user', content: 'I live in Toronto' }] }],
};

const chinesePersona = {
  Demographics: {
    Age: '28',
    Gender: '女',
    Nationality: '中国',
    Language: ['中文', '英语'],
    Career_Information: '上海的一名软件工程师',
  },
  Personality: {
    Extraversion_or_Introversion: 'E',
    Sensing_or_Intuition: 'S',
    Thinking_or_Feeling: 'T',
    Judging_or_Perceiving: 'P',
    Values_and_Interests: ['摄影', '旅行'],
  },
  Pattern: { Usage_Pattern: '每天晚上使用 😀' },
  Preference: { Preferred_Format: '表格' },
  scenes: [],
};

const field = (profile: Profile, section: string, key: string) =>
  findField(profile, section, key)?.field;

function expectError(input: unknown, pattern: RegExp): void {
  const result = parseProfileImport(input, NOW);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(pattern);
}

describe('exportProfile / parseProfileImport, our format', () => {
  it('round-trips through JSON text', () => {
    const profile = sampleProfile();
    const file = exportProfile(profile, NOW);
    expect(file).toMatchObject({ format: 'persona-profile', version: 1 });
    expect(file.exportedAt).toBe(new Date(NOW).toISOString());
    const result = parseProfileImport(JSON.stringify(file), NOW);
    expect(result).toEqual({ ok: true, format: 'persona', profile });
  });

  it('carries revisions when given', () => {
    const file = exportProfile(sampleProfile(), NOW, []);
    expect(file.revisions).toEqual([]);
    expect('revisions' in exportProfile(sampleProfile(), NOW)).toBe(false);
  });

  it('takes built-in status from names and restores missing built-in sections', () => {
    const profile: Profile = {
      updatedAt: T0,
      sections: [{ name: 'Hobbies', builtIn: true, fields: {} }],
    };
    const result = parseProfileImport(exportProfile(profile, NOW), NOW);
    if (!result.ok) throw new Error(result.error);
    expect(result.profile.sections.map((s) => [s.name, s.builtIn])).toEqual([
      ['Hobbies', false],
      ['Demographics', true],
      ['Personality', true],
      ['Patterns', true],
      ['Preferences', true],
    ]);
  });

  it('refuses files from a newer version and damaged profiles', () => {
    expectError({ ...exportProfile(sampleProfile(), NOW), version: 2 }, /newer version/u);
    expectError({ format: 'persona-profile', version: 1, profile: { sections: 'x' } }, /damaged/u);
    expectError({ format: 'other', version: 1 }, /not a Persona profile/u);
  });

  it('refuses a time no date can hold, naming where it is (issue 12)', () => {
    const file = exportProfile(sampleProfile(), NOW);
    expectError(
      { ...file, profile: { ...file.profile, updatedAt: 1e20 } },
      /profile\.updatedAt must be a time in milliseconds since 1970/u,
    );
    expectError(
      { ...file, profile: { ...file.profile, updatedAt: Number.POSITIVE_INFINITY } },
      /profile\.updatedAt must be a time/u,
    );
  });
});

describe('parseProfileImport, PersonaBench format', () => {
  it('maps every known key into our sections as user-set fields', () => {
    const result = parseProfileImport(englishPersona, NOW);
    if (!result.ok) throw new Error(result.error);
    expect(result.format).toBe('personabench');
    const profile = result.profile;
    expect(field(profile, 'Demographics', 'Age')).toEqual({
      value: '34',
      updatedAt: NOW,
      source: 'user',
      locked: false,
      evidence: [],
    });
    expect(field(profile, 'Demographics', 'Languages')?.value).toBe('English, French');
    expect(field(profile, 'Demographics', 'Occupation')?.value).toBe(
      'Pediatric nurse at a city hospital',
    );
    expect(field(profile, 'Personality', 'Extraversion or Introversion')?.value).toBe(
      'I (introversion)',
    );
    expect(field(profile, 'Personality', 'Judging or Perceiving')?.value).toBe('J (judging)');
    expect(field(profile, 'Personality', 'Values and Interests')?.value).toBe(
      'family, hiking, sustainability',
    );
    expect(field(profile, 'Patterns', 'Behavior and Engagement')?.value).toBe(
      'Checks in late at night after shifts',
    );
    expect(field(profile, 'Preferences', 'Workflows')?.value).toBe('Step-by-step checklists');
    const all = JSON.stringify(profile);
    expect(all).not.toContain('Alex Doe');
    expect(all).not.toContain('Toronto');
    expect(validateProfile(profile).ok).toBe(true);
  });

  it('keeps Chinese text intact and reads the legacy Preferred_Format key', () => {
    const result = parseProfileImport(JSON.stringify(chinesePersona), NOW);
    if (!result.ok) throw new Error(result.error);
    expect(field(result.profile, 'Demographics', 'Gender')?.value).toBe('女');
    expect(field(result.profile, 'Demographics', 'Languages')?.value).toBe('中文, 英语');
    expect(field(result.profile, 'Demographics', 'Occupation')?.value).toBe('上海的一名软件工程师');
    expect(field(result.profile, 'Personality', 'Values and Interests')?.value).toBe('摄影, 旅行');
    expect(field(result.profile, 'Patterns', 'Usage')?.value).toBe('每天晚上使用 😀');
    expect(field(result.profile, 'Preferences', 'Formats')?.value).toBe('表格');
    expect(field(result.profile, 'Personality', 'Sensing or Intuition')?.value).toBe('S (sensing)');
  });

  it('prefers Preferred_Formats over the legacy key and keeps unknown keys readable', () => {
    const result = parseProfileImport(
      {
        Preference: { Preferred_Format: 'old', Preferred_Formats: 'new' },
        Demographics: { Home_Town: 'Lyon', Age: null },
        Preferred_Workflows: ['draft', 'review'],
      },
      NOW,
    );
    if (!result.ok) throw new Error(result.error);
    expect(field(result.profile, 'Preferences', 'Formats')?.value).toBe('new');
    expect(field(result.profile, 'Preferences', 'Workflows')?.value).toBe('draft, review');
    expect(field(result.profile, 'Demographics', 'Home Town')?.value).toBe('Lyon');
    expect(field(result.profile, 'Demographics', 'Age')).toBeUndefined();
  });
});

describe('parseProfileImport, a PersonaBench file without values (issue 12)', () => {
  it('is refused instead of emptying the profile', () => {
    expectError(
      { Demographics: { Age: '', Gender: null }, Preference: { Preferred_Styles: [] } },
      /holds no values to import/u,
    );
  });
});

describe('parseProfileImport, hostile files', () => {
  it('refuses roots that are not objects and text that is not JSON', () => {
    expectError('[1, 2]', /JSON object/u);
    expectError(null, /JSON object/u);
    expectError('"just text"', /JSON object/u);
    expectError(42, /JSON object/u);
    expectError('{"Demographics": {', /not valid JSON/u);
    expectError({ hello: 'world' }, /not a Persona profile export or a PersonaBench/u);
  });

  it('refuses wrong value types', () => {
    expectError({ Demographics: 'Berlin' }, /must be an object/u);
    expectError({ Demographics: { Age: { years: 3 } } }, /must be text/u);
    expectError({ Demographics: { Age: true } }, /must be text/u);
    expectError({ Demographics: { Language: ['en', { x: 1 }] } }, /list text only/u);
  });

  it('rejects over-long values instead of cutting them', () => {
    const long = 'x'.repeat(MAX_VALUE_LENGTH + 1);
    expectError(
      { Pattern: { Behavior_Engagement_Pattern: long } },
      /Behavior_Engagement_Pattern.*longer than 200/u,
    );
    const profile = sampleProfile();
    const file = exportProfile(profile, NOW);
    const section = file.profile.sections[0];
    if (section === undefined) throw new Error('setup');
    section.fields.Location = {
      ...(section.fields.Location as NonNullable<(typeof section.fields)['Location']>),
      value: long,
    };
    expectError(JSON.parse(JSON.stringify(file)), /longer than 200/u);
  });

  it('refuses too many fields and sections', () => {
    const many = Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`K${i}`, 'v']));
    expectError({ Demographics: many }, /more than 40 fields/u);
    const sections = Array.from({ length: MAX_SECTIONS + 1 }, (_, i) => ({
      name: `S${i}`,
      builtIn: false,
      fields: {},
    }));
    expectError(
      { format: 'persona-profile', version: 1, profile: { updatedAt: T0, sections } },
      /more than 12 sections/u,
    );
    const eleven = sections.slice(0, 11);
    expectError(
      { format: 'persona-profile', version: 1, profile: { updatedAt: T0, sections: eleven } },
      /more than 12 sections with the built-in/u,
    );
  });

  it('refuses reserved keys anywhere and never pollutes prototypes', () => {
    expectError('{"__proto__": {"polluted": 1}, "Demographics": {}}', /reserved key/u);
    expectError('{"Demographics": {"__proto__": "x"}}', /reserved key/u);
    expectError('{"Demographics": {"constructor": "x"}}', /reserved key/u);
    const file = JSON.stringify(exportProfile(sampleProfile(), NOW)).replace(
      '"Location"',
      '"prototype"',
    );
    expectError(file, /reserved name/u);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses depth bombs and oversized files quickly', () => {
    const bomb = `{"Demographics": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const started = performance.now();
    expectError(bomb, /nested too deeply/u);
    expect(performance.now() - started).toBeLessThan(1000);
    expectError(`"${'a'.repeat(MAX_IMPORT_CHARS)}"`, /too large/u);
  });

  it('ignores deep junk it never needs to read', () => {
    let junk: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) junk = [junk];
    const result = parseProfileImport({ ...englishPersona, scenes: junk }, NOW);
    expect(result.ok).toBe(true);
  });
});

describe('validateProfile', () => {
  it('accepts a valid profile and returns a copy with known properties only', () => {
    const profile = { ...sampleProfile(), extra: 'dropped' };
    const result = validateProfile(profile);
    if (!result.ok) throw new Error(result.error);
    expect(result.profile).not.toBe(profile);
    expect('extra' in result.profile).toBe(false);
  });

  it.each([
    [
      'a user-set field with evidence',
      (p: Profile) => {
        const f = p.sections[4]?.fields.Sport;
        if (f) f.evidence = [{ conversationId: 'c', messageId: 'm', quote: 'q' }];
      },
      /must not carry evidence/u,
    ],
    [
      'duplicate section names',
      (p: Profile) => {
        p.sections.push({ name: 'demographics', builtIn: false, fields: {} });
      },
      /repeats the section name/u,
    ],
    [
      'duplicate keys',
      (p: Profile) => {
        const s = p.sections[4];
        if (s) s.fields.SPORT = { ...(s.fields.Sport as NonNullable<typeof s.fields.Sport>) };
      },
      /repeats another key/u,
    ],
    [
      'untrimmed names',
      (p: Profile) => {
        const s = p.sections[4];
        if (s) s.name = ' Hobbies';
      },
      /whitespace/u,
    ],
    [
      'a bad source',
      (p: Profile) => {
        const f = p.sections[4]?.fields.Sport;
        if (f) (f as { source: string }).source = 'admin';
      },
      /source/u,
    ],
    [
      'a bad timestamp',
      (p: Profile) => {
        p.updatedAt = Number.NaN;
      },
      /updatedAt/u,
    ],
  ])('rejects %s', (_name, damage, pattern) => {
    const profile = sampleProfile();
    damage(profile);
    const result = validateProfile(profile);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(pattern);
  });
});
