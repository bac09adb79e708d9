import type { Profile } from './types';

/**
 * The built-in sections and their limits. The sections follow the AI PERSONA paper's persona
 * schema (Demographics, Personality, Patterns, Preferences); the keys are suggestions the optimizer
 * sees in its prompt, not a closed list, because people differ in what is worth remembering.
 */

/** Longest field value. Values are facts, not paragraphs: longer text belongs in a conversation. */
export const MAX_VALUE_LENGTH = 200;
export const MAX_KEY_LENGTH = 48;
export const MAX_SECTION_NAME_LENGTH = 48;
/** Longest evidence quote: enough to recognise the message, short enough to keep the profile small. */
export const MAX_QUOTE_LENGTH = 160;
/** Evidence kept per field, newest first: older quotes add little once a fact is confirmed. */
export const MAX_EVIDENCE_PER_FIELD = 3;
export const MAX_FIELDS_PER_SECTION = 40;
export const MAX_SECTIONS = 12;
/** Conversation and message ids are UUIDs; the bound only stops hostile files from bloating storage. */
export const MAX_ID_LENGTH = 128;
/** Tokens the rendered profile may take in the chat system prompt before it should be consolidated. */
export const DEFAULT_PROFILE_BUDGET_TOKENS = 512;

export interface SectionTemplate {
  name: string;
  /** One line for the optimizer's prompt: what belongs in this section. */
  description: string;
  suggestedKeys: readonly string[];
}

export const DEFAULT_SECTIONS: readonly SectionTemplate[] = [
  {
    name: 'Demographics',
    description: 'who the user is',
    suggestedKeys: [
      'Age',
      'Gender',
      'Nationality',
      'Languages',
      'Occupation',
      'Location',
      'Name',
      'Education',
      'Family',
      'Health',
    ],
  },
  {
    name: 'Personality',
    description: 'temperament (MBTI dimensions) and what the user values',
    suggestedKeys: [
      'Extraversion or Introversion',
      'Sensing or Intuition',
      'Thinking or Feeling',
      'Judging or Perceiving',
      'Values and Interests',
    ],
  },
  {
    name: 'Patterns',
    description: 'recurring behaviour',
    suggestedKeys: ['Behavior and Engagement', 'Usage', 'Emotion', 'Purchase'],
  },
  {
    name: 'Preferences',
    description: 'how the user likes answers and work to be done',
    suggestedKeys: ['Styles', 'Formats', 'Workflows', 'Diet'],
  },
];

/** A profile with the built-in sections and nothing learned yet. */
export function emptyProfile(now: number): Profile {
  return {
    sections: DEFAULT_SECTIONS.map((template) => ({
      name: template.name,
      builtIn: true,
      fields: {},
    })),
    updatedAt: now,
  };
}

/** The built-in section that suggests `key` (case-insensitively), if one does. */
export function homeSectionOf(key: string): SectionTemplate | undefined {
  const wanted = key.trim().toLowerCase();
  return DEFAULT_SECTIONS.find((template) =>
    template.suggestedKeys.some((suggested) => suggested.toLowerCase() === wanted),
  );
}

/** The built-in template of a section, matched case-insensitively, or undefined for user sections. */
export function sectionTemplate(name: string): SectionTemplate | undefined {
  const wanted = name.trim().toLowerCase();
  return DEFAULT_SECTIONS.find((template) => template.name.toLowerCase() === wanted);
}
