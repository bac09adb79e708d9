import { describe, expect, it } from 'vitest';
import {
  MAX_DATASET_FILE_CHARS,
  loadBenchDataset,
  stripNeutralizedTags,
  type DatasetFile,
  type DatasetLoad,
} from '../../src/core/bench/dataset';
import type { BenchDataset } from '../../src/core/bench/types';
import { findField } from '../../src/core/profile/apply';
import { validateProfile } from '../../src/core/profile/import-export';
import type { Profile } from '../../src/core/profile/types';

const NOW = 1_700_000_000_000;

/** Our shipped dataset, every file of the folder, as the CLI and the Lab view hand it over. */
const SHIPPED_PREFIX = '../../public/personabench/persona-en/';
const shippedFiles: DatasetFile[] = Object.entries(
  import.meta.glob<string>('../../public/personabench/persona-en/**/*', {
    query: '?raw',
    import: 'default',
    eager: true,
  }),
).map(([path, text]) => ({ path: path.slice(SHIPPED_PREFIX.length), text }));

function loaded(result: DatasetLoad): { dataset: BenchDataset; warnings: string[] } {
  if (!result.ok) throw new Error(`expected the dataset to load: ${result.error}`);
  return result;
}

function refused(result: DatasetLoad): string {
  if (result.ok) throw new Error('expected the dataset to be refused');
  return result.error;
}

function fieldCount(profile: Profile): number {
  return profile.sections.reduce((sum, section) => sum + Object.keys(section.fields).length, 0);
}

function scene(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scene_type: 'Cooking',
    scene_desc: 'Sam wants a quick dinner.',
    scene_context: 'Sam is vegetarian.',
    personalized_query: "I'm vegetarian, what's a quick dinner?",
    neutralized_query: "What's a quick dinner?",
    expected_response: 'A quick vegetarian dinner.',
    ...overrides,
  };
}

const samPersona = {
  Name: 'Sam Reed',
  Demographics: { Age: 40, Career_Information: 'baker' },
  Preference: { Preferred_Styles: 'brief' },
};

/** One persona in our folder layout. */
function ourLayout(id: string, scenes: unknown[] = [scene(), scene()]): DatasetFile[] {
  return [
    { path: `${id}/persona.json`, text: JSON.stringify(samPersona) },
    { path: `${id}/scenes.json`, text: JSON.stringify(scenes) },
  ];
}

/** A persona as the paper's released files hold it (data/generated_data/<name>.json). */
const releasedPersona = {
  Demographics: {
    Age: 28,
    Gender: 'male',
    Nationality: 'Chinese',
    Language: ['Chinese', 'English'],
    Career_Information: 'fashion photographer',
    Name: 'Li Hua',
  },
  Personality: {
    Extraversion_or_Introversion: 'E',
    Sensing_or_Intuition: 'S',
    Thinking_or_Feeling: 'T',
    Judging_or_Perceiving: 'P',
    Values_and_Interests: ['urban exploration', 'visual art'],
  },
  Pattern: { Usage_Pattern: 'asks for quick, concrete suggestions' },
  Preference: {
    Preferred_Styles: 'concise and creative',
    Preferred_Formats: 'pictures with short text',
    Preferred_Workflows: 'flexible, tries new features',
  },
  scenes: [
    {
      scene_type: 'Project management: Li Hua tracks a shoot.',
      available_apis: null,
      scene_desc: 'Li Hua plans a week of street shoots.',
      expected_response:
        '\nThe AI should ask for the shoot details first, then propose a schedule.\n',
      scene_context: 'Shoots:\n1. Monday, old town\n2. Tuesday, harbour',
      personalized_query: 'Help me schedule this week of shoots, we have five people.',
      neutralized_query:
        '<neutralized_query>\nHelp me schedule shoots for this week.\n</neutralized_query>',
    },
    {
      scene_type: 'Meetings',
      available_apis: {
        sendEmail: { arguments: ['recipients', 'subject', 'body'], description: 'Sends an email.' },
      },
      scene_desc: 'Li Hua needs a meeting with a client.',
      expected_response: 'Ask who should attend, then propose a time.',
      scene_context: 'Client Zhang San is free Monday to Friday mornings.',
      personalized_query: 'Set up a meeting with my client Zhang San.',
      // The released files sometimes lost the closing tag.
      neutralized_query: '<neutralized_query>\nSet up a meeting with a client.\n',
    },
  ],
};

describe('released PersonaBench files', () => {
  it('reads a persona file with tag-wrapped queries, null or present available_apis and the name in Demographics', () => {
    const { dataset, warnings } = loaded(
      loadBenchDataset(
        'released',
        [{ path: 'Li Hua.json', text: JSON.stringify(releasedPersona) }],
        NOW,
      ),
    );
    expect(warnings).toEqual([]);
    expect(dataset.name).toBe('released');
    const [persona] = dataset.personas;
    expect(persona?.id).toBe('Li Hua');
    expect(persona?.name).toBe('Li Hua');
    expect(persona?.scenes.map((s) => s.neutralizedQuery)).toEqual([
      'Help me schedule shoots for this week.',
      'Set up a meeting with a client.',
    ]);
    expect(persona?.scenes[0]).toEqual({
      type: 'Project management: Li Hua tracks a shoot.',
      description: 'Li Hua plans a week of street shoots.',
      context: 'Shoots:\n1. Monday, old town\n2. Tuesday, harbour',
      expectedResponse: 'The AI should ask for the shoot details first, then propose a schedule.',
      personalizedQuery: 'Help me schedule this week of shoots, we have five people.',
      neutralizedQuery: 'Help me schedule shoots for this week.',
    });
    const golden = persona?.golden;
    if (golden === undefined) throw new Error('no golden persona');
    expect(findField(golden, 'Demographics', 'Occupation')?.field.value).toBe(
      'fashion photographer',
    );
    expect(findField(golden, 'Personality', 'Thinking or Feeling')?.field.value).toBe(
      'T (thinking)',
    );
    // The synthetic name is the display name, not a fact the learned profile is scored on.
    expect(findField(golden, 'Demographics', 'Name')).toBeUndefined();
    expect(validateProfile(golden).ok).toBe(true);
  });

  it('reads {"persona": …, "scenes": […]} files and orders personas by id without an index', () => {
    const { dataset } = loaded(
      loadBenchDataset(
        'wrapped',
        [
          {
            path: 'zoe.json',
            text: JSON.stringify({ persona: { ...samPersona, Name: 'Zoe' }, scenes: [scene()] }),
          },
          { path: 'adam.json', text: JSON.stringify({ persona: samPersona, scenes: [scene()] }) },
        ],
        NOW,
      ),
    );
    expect(dataset.personas.map((p) => [p.id, p.name])).toEqual([
      ['adam', 'Sam Reed'],
      ['zoe', 'Zoe'],
    ]);
  });

  it('strips the neutralized_query tags in their variants and leaves other text alone', () => {
    expect(stripNeutralizedTags('<neutralized_query>\nA\n</neutralized_query>').trim()).toBe('A');
    expect(stripNeutralizedTags('  <NEUTRALIZED_QUERY> A </neutralized_query>\n').trim()).toBe('A');
    expect(stripNeutralizedTags('< neutralized_query >\n\nA\nB').trim()).toBe('A\nB');
    expect(stripNeutralizedTags('A\n< / neutralized_query >').trim()).toBe('A');
    expect(stripNeutralizedTags('Explain <neutralized_query> tags in XML')).toBe(
      'Explain <neutralized_query> tags in XML',
    );
  });
});

describe('our folder layout', () => {
  it('orders personas by index.json, takes scenes from persona.json when scenes.json is absent, and warns about stray files', () => {
    const { dataset, warnings } = loaded(
      loadBenchDataset(
        'ours',
        [
          ...ourLayout('b-first'),
          {
            path: 'a-second/persona.json',
            text: JSON.stringify({ ...samPersona, scenes: [scene()] }),
          },
          { path: 'notes.txt', text: 'hello' },
          {
            path: 'index.json',
            text: JSON.stringify({
              name: 'ours',
              files: ['b-first/persona.json', 'b-first/scenes.json', 'a-second/persona.json'],
            }),
          },
        ],
        NOW,
      ),
    );
    expect(dataset.personas.map((p) => p.id)).toEqual(['b-first', 'a-second']);
    expect(dataset.personas[1]?.scenes).toHaveLength(1);
    expect(warnings).toEqual(['notes.txt: not a JSON file, ignored.']);
  });

  it('reads Windows-style and ./ paths', () => {
    const { dataset } = loaded(
      loadBenchDataset(
        'paths',
        [
          { path: '.\\sam\\persona.json', text: JSON.stringify(samPersona) },
          { path: './sam/scenes.json', text: JSON.stringify([scene()]) },
        ],
        NOW,
      ),
    );
    expect(dataset.personas.map((p) => p.id)).toEqual(['sam']);
  });

  it('reads declared changes and checks them against the scenes and the golden persona', () => {
    const files = (changes: unknown): DatasetFile[] => [
      ...ourLayout('sam', [scene(), scene(), scene()]),
      { path: 'index.json', text: JSON.stringify({ files: [], changes }) },
    ];
    const change = {
      scene: 2,
      section: 'Demographics',
      key: 'Occupation',
      before: 'student',
      after: 'baker',
    };
    const { dataset, warnings } = loaded(loadBenchDataset('c', files({ sam: [change] }), NOW));
    expect(dataset.personas[0]?.changes).toEqual([
      {
        sceneIndex: 1,
        section: 'Demographics',
        key: 'Occupation',
        before: 'student',
        after: 'baker',
      },
    ]);
    // An index whose `files` lists nothing that was given is only used for changes; no warning.
    expect(warnings).toEqual([]);
    expect(refused(loadBenchDataset('c', files({ sam: [{ ...change, scene: 4 }] }), NOW))).toBe(
      'index.json, changes of "sam", change 1: "scene" must be a scene number from 2 to 3.',
    );
    expect(refused(loadBenchDataset('c', files({ sam: [{ ...change, key: 'Diet' }] }), NOW))).toBe(
      'index.json, changes of "sam", change 1: the golden persona has no field Demographics › Diet.',
    );
    expect(
      refused(loadBenchDataset('c', files({ sam: [{ ...change, after: 'astronaut' }] }), NOW)),
    ).toContain('does not mention "astronaut"');
    expect(loaded(loadBenchDataset('c', files({ nobody: [change] }), NOW)).warnings).toEqual([
      'index.json: "changes" names "nobody", which is not in the dataset.',
    ]);
  });
});

describe('hostile files', () => {
  it('names the file and the scene of a missing or mistyped field', () => {
    const scenes = [scene(), scene(), scene(), scene({ expected_response: undefined })];
    expect(refused(loadBenchDataset('h', ourLayout('sam', scenes), NOW))).toBe(
      'sam/scenes.json, scene 4: expected_response is missing.',
    );
    expect(
      refused(loadBenchDataset('h', ourLayout('sam', [scene(), scene({ scene_type: 7 })]), NOW)),
    ).toBe('sam/scenes.json, scene 2: scene_type must be text.');
    expect(
      refused(loadBenchDataset('h', ourLayout('sam', [scene({ neutralized_query: null })]), NOW)),
    ).toBe('sam/scenes.json, scene 1: neutralized_query is missing.');
    expect(
      refused(
        loadBenchDataset(
          'h',
          ourLayout('sam', [
            scene({ neutralized_query: '<neutralized_query>\n</neutralized_query>' }),
          ]),
          NOW,
        ),
      ),
    ).toBe('sam/scenes.json, scene 1: neutralized_query is empty.');
    expect(refused(loadBenchDataset('h', ourLayout('sam', ['a scene']), NOW))).toBe(
      'sam/scenes.json, scene 1: a scene must be an object.',
    );
    expect(refused(loadBenchDataset('h', ourLayout('sam', []), NOW))).toBe(
      'sam/scenes.json: there are no scenes.',
    );
    expect(
      refused(
        loadBenchDataset(
          'h',
          [
            { path: 'sam/persona.json', text: JSON.stringify(samPersona) },
            { path: 'sam/scenes.json', text: '{"scenes": []}' },
          ],
          NOW,
        ),
      ),
    ).toBe('sam/scenes.json: the scenes must be a list.');
  });

  it('refuses oversized, deeply nested and malformed files, naming them', () => {
    const big = `[${'"x",'.repeat(MAX_DATASET_FILE_CHARS / 4)}"x"]`;
    expect(
      refused(
        loadBenchDataset(
          'h',
          [ourLayout('sam')[0] as DatasetFile, { path: 'sam/scenes.json', text: big }],
          NOW,
        ),
      ),
    ).toBe(`sam/scenes.json is too large (over ${MAX_DATASET_FILE_CHARS} characters).`);
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    expect(refused(loadBenchDataset('h', [{ path: 'deep.json', text: deep }], NOW))).toBe(
      'deep.json is nested too deeply.',
    );
    expect(
      refused(loadBenchDataset('h', [{ path: 'sam/persona.json', text: '{"Name": ' }], NOW)),
    ).toBe('sam/persona.json is not valid JSON.');
    expect(refused(loadBenchDataset('h', [{ path: 'list.json', text: '[]' }], NOW))).toBe(
      'list.json: expected an object holding a persona and its "scenes".',
    );
  });

  it('refuses __proto__ and other reserved keys anywhere, without polluting prototypes', () => {
    const pollutedPersona =
      '{"Name": "Eve", "Demographics": {"Age": 30}, "__proto__": {"polluted": "yes"}}';
    expect(
      refused(
        loadBenchDataset(
          'h',
          [{ path: 'eve/persona.json', text: pollutedPersona }, ourLayout('eve')[1] as DatasetFile],
          NOW,
        ),
      ),
    ).toBe('eve/persona.json uses the reserved key "__proto__".');
    const pollutedScene = JSON.stringify([scene()]).replace(
      '"scene_type"',
      '"__proto__": {"polluted": "yes"}, "scene_type"',
    );
    expect(
      refused(
        loadBenchDataset(
          'h',
          [ourLayout('eve')[0] as DatasetFile, { path: 'eve/scenes.json', text: pollutedScene }],
          NOW,
        ),
      ),
    ).toBe('eve/scenes.json uses the reserved key "__proto__".');
    expect(
      refused(
        loadBenchDataset(
          'h',
          [{ path: 'eve.json', text: '{"persona": {"constructor": {"prototype": {}}}}' }],
          NOW,
        ),
      ),
    ).toBe('eve.json uses the reserved key "constructor".');
    expect(refused(loadBenchDataset('h', ourLayout('__proto__'), NOW))).toBe(
      '__proto__/persona.json: "__proto__" cannot name a persona.',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses incomplete, duplicated or empty datasets with the reason', () => {
    expect(refused(loadBenchDataset('h', [ourLayout('sam')[1] as DatasetFile], NOW))).toBe(
      'sam/persona.json is missing (the golden persona of "sam").',
    );
    expect(refused(loadBenchDataset('h', [ourLayout('sam')[0] as DatasetFile], NOW))).toBe(
      'sam/scenes.json is missing (the scenes of "sam").',
    );
    expect(
      refused(
        loadBenchDataset(
          'h',
          [
            ...ourLayout('sam'),
            { path: 'sam.json', text: JSON.stringify({ persona: samPersona, scenes: [scene()] }) },
          ],
          NOW,
        ),
      ),
    ).toBe('sam.json: persona "sam" is given twice.');
    expect(refused(loadBenchDataset('h', [], NOW))).toBe('The dataset holds no personas.');
    expect(
      refused(
        loadBenchDataset('h', [{ path: 'persona.json', text: JSON.stringify(samPersona) }], NOW),
      ),
    ).toBe('persona.json must be inside a folder named for the persona.');
    expect(
      refused(
        loadBenchDataset(
          'h',
          [
            { path: 'sam/persona.json', text: '{"Name": "Sam", "Demographics": {}}' },
            ourLayout('sam')[1] as DatasetFile,
          ],
          NOW,
        ),
      ),
    ).toBe(
      'sam/persona.json: The file holds no values to import, so it would only empty the profile.',
    );
    expect(
      refused(
        loadBenchDataset(
          'h',
          [
            { path: 'sam/persona.json', text: '{"Demographics": {"Age": {"years": 3}}}' },
            ourLayout('sam')[1] as DatasetFile,
          ],
          NOW,
        ),
      ),
    ).toBe('sam/persona.json: "Demographics.Age" must be text, a number or a list of text.');
    expect(
      refused(
        loadBenchDataset(
          'h',
          [...ourLayout('sam'), { path: 'index.json', text: '{"files": [1]}' }],
          NOW,
        ),
      ),
    ).toBe('index.json: "files" must list paths as text.');
  });
});

describe('the shipped persona-en dataset', () => {
  const { dataset, warnings } = loaded(loadBenchDataset('persona-en', shippedFiles, NOW));

  it('loads without warnings: at least 8 personas with at least 10 scenes each, in index order', () => {
    expect(warnings).toEqual([]);
    expect(dataset.personas.length).toBeGreaterThanOrEqual(8);
    for (const persona of dataset.personas) {
      expect(persona.scenes.length, persona.id).toBeGreaterThanOrEqual(10);
    }
    const index = JSON.parse(shippedFiles.find((f) => f.path === 'index.json')?.text ?? '{}') as {
      files: string[];
    };
    const listed = new Set(index.files);
    for (const file of shippedFiles) {
      if (file.path !== 'index.json') expect(listed.has(file.path), file.path).toBe(true);
    }
    expect(dataset.personas.map((p) => `${p.id}/persona.json`)).toEqual(
      index.files.filter((path) => path.endsWith('/persona.json')),
    );
  });

  it('converts every golden persona to a valid, non-empty profile with a name', () => {
    for (const persona of dataset.personas) {
      expect(validateProfile(persona.golden).ok, persona.id).toBe(true);
      expect(fieldCount(persona.golden), persona.id).toBeGreaterThanOrEqual(12);
      expect(persona.name, persona.id).not.toBe(persona.id);
      for (const section of ['Demographics', 'Personality', 'Patterns', 'Preferences']) {
        const fields = persona.golden.sections.find((s) => s.name === section)?.fields ?? {};
        expect(Object.keys(fields).length, `${persona.id} ${section}`).toBeGreaterThan(0);
      }
    }
  });

  it('has varied people: ages, nationalities and MBTI types', () => {
    const value = (p: Profile, section: string, key: string): string =>
      findField(p, section, key)?.field.value ?? '';
    const ages = dataset.personas.map((p) => Number(value(p.golden, 'Demographics', 'Age')));
    expect(Math.max(...ages) - Math.min(...ages)).toBeGreaterThanOrEqual(30);
    const nationalities = new Set(
      dataset.personas.map((p) => value(p.golden, 'Demographics', 'Nationality')),
    );
    expect(nationalities.size).toBeGreaterThanOrEqual(6);
    const types = new Set(
      dataset.personas.map((p) =>
        [
          'Extraversion or Introversion',
          'Sensing or Intuition',
          'Thinking or Feeling',
          'Judging or Perceiving',
        ]
          .map((key) => value(p.golden, 'Personality', key).charAt(0))
          .join(''),
      ),
    );
    expect(types.size).toBeGreaterThanOrEqual(6);
  });

  it('has at least 3 personas whose facts change mid-way, told by every scene context', () => {
    const changing = dataset.personas.filter((p) => (p.changes?.length ?? 0) > 0);
    expect(changing.length).toBeGreaterThanOrEqual(3);
    for (const persona of changing) {
      for (const change of persona.changes ?? []) {
        // Convention: every scene context states the fact as it is at that point in time.
        persona.scenes.forEach((s, index) => {
          const expected = index < change.sceneIndex ? change.before : change.after;
          expect(s.context.toLowerCase(), `${persona.id} scene ${index + 1}`).toContain(
            expected.toLowerCase(),
          );
        });
        // The golden persona is the state at the end of the timeline.
        expect(findField(persona.golden, change.section, change.key)?.field.value).toContain(
          change.after,
        );
      }
    }
  });

  it('keeps personal details out of the neutralized queries and every text short', () => {
    for (const persona of dataset.personas) {
      persona.scenes.forEach((s, index) => {
        const where = `${persona.id} scene ${index + 1}`;
        expect(s.neutralizedQuery, where).not.toBe(s.personalizedQuery);
        expect(s.neutralizedQuery.length, where).toBeLessThan(s.personalizedQuery.length);
        expect(s.neutralizedQuery.toLowerCase(), where).not.toContain(
          persona.name.split(' ')[0]?.toLowerCase(),
        );
        const texts = [
          s.type,
          s.description,
          s.context,
          s.expectedResponse,
          s.personalizedQuery,
          s.neutralizedQuery,
        ];
        // A simulator prompt on a small model has little room.
        for (const text of texts) expect(text.length, where).toBeLessThanOrEqual(300);
      });
    }
  });
});
