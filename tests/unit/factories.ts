/** Test data: a fresh database per test and rows with sensible defaults, overridable per field. */
import { emptyProfile } from '../../src/core/profile/defaults';
import type {
  AppliedChange,
  Evidence,
  Profile,
  ProfileChange,
  ProfileField,
  ProfileRevision,
} from '../../src/core/profile/types';
import {
  DEFAULT_CONVERSATION_TITLE,
  openDatabase,
  type Conversation,
  type Message,
  type PersonaDatabase,
} from '../../src/db';
import type { WebLLMModelSpec, WllamaModelSpec } from '../../src/engine/engine';

let sequence = 0;
const next = (): number => ++sequence;

/** A database of its own, so tests never see each other's rows. Needs `fake-indexeddb/auto`. */
export function freshDatabase(): PersonaDatabase {
  return openDatabase(`persona-test-${crypto.randomUUID()}`);
}

export function makeConversation(overrides: Partial<Conversation> = {}): Conversation {
  const at = 1_700_000_000_000 + next() * 1000;
  return {
    id: crypto.randomUUID(),
    title: DEFAULT_CONVERSATION_TITLE,
    createdAt: at,
    updatedAt: at,
    temporary: false,
    learnedUntil: 0,
    ...overrides,
  };
}

export function makeMessage(
  overrides: Partial<Message> & Pick<Message, 'conversationId'>,
): Message {
  const n = next();
  return {
    id: crypto.randomUUID(),
    role: 'user',
    content: `Message ${n}`,
    createdAt: 1_700_000_000_000 + n * 1000,
    status: 'complete',
    ...overrides,
  };
}

/** Stores a conversation with alternating user/assistant messages, oldest first. */
export async function seedConversation(
  db: PersonaDatabase,
  {
    conversation = {},
    messages = [],
  }: { conversation?: Partial<Conversation>; messages?: Partial<Message>[] } = {},
): Promise<{ conversation: Conversation; messages: Message[] }> {
  const stored = makeConversation(conversation);
  const rows = messages.map((overrides, index) =>
    makeMessage({
      conversationId: stored.id,
      role: index % 2 === 0 ? 'user' : 'assistant',
      createdAt: stored.createdAt + index + 1,
      ...overrides,
    }),
  );
  await db.conversations.add(stored);
  await db.messages.bulkAdd(rows);
  return { conversation: stored, messages: rows };
}

export function makeWllamaSpec(overrides: Partial<WllamaModelSpec> = {}): WllamaModelSpec {
  const n = next();
  return {
    engine: 'wllama',
    id: `tiny-${n}.gguf`,
    url: `https://models.example/tiny-${n}.gguf`,
    contextWindow: 2048,
    ...overrides,
  };
}

export function makeWebLLMSpec(overrides: Partial<WebLLMModelSpec> = {}): WebLLMModelSpec {
  const n = next();
  return {
    engine: 'webllm',
    id: `Tiny-${n}-q4f32_1-MLC`,
    modelUrl: `https://models.example/Tiny-${n}-q4f32_1-MLC/`,
    modelLibUrl: `https://models.example/libs/Tiny-${n}-q4f32_1-webgpu.wasm`,
    requiresShaderF16: false,
    ...overrides,
  };
}

export function makeEvidence(
  overrides: Partial<Evidence> & Pick<Evidence, 'conversationId'>,
): Evidence {
  return { messageId: crypto.randomUUID(), quote: `Quote ${next()}`, ...overrides };
}

/** A learned, unlocked field; pass `evidence` to tie it to conversations. */
export function makeField(overrides: Partial<ProfileField> = {}): ProfileField {
  return {
    value: `Value ${next()}`,
    updatedAt: 1_700_000_000_000,
    source: 'learned',
    locked: false,
    evidence: [],
    ...overrides,
  };
}

/** The empty profile with the given fields, by section name (built-in sections only). */
export function makeProfile(
  fields: Partial<Record<string, Record<string, ProfileField>>> = {},
  updatedAt = 1_700_000_000_000,
): Profile {
  const profile = emptyProfile(updatedAt);
  return {
    ...profile,
    sections: profile.sections.map((section) => ({
      ...section,
      fields: { ...fields[section.name] },
    })),
  };
}

/** A `set` change as applied, from nothing to `after`. */
export function makeAppliedSet(section: string, key: string, after: ProfileField): AppliedChange {
  return { op: 'set', section, key, before: null, after, evidence: after.evidence[0] ?? null };
}

export function makeRevision(
  overrides: Partial<Omit<ProfileRevision, 'number'>> = {},
): Omit<ProfileRevision, 'number'> {
  return {
    id: crypto.randomUUID(),
    createdAt: 1_700_000_000_000 + next() * 1000,
    origin: 'optimizer',
    changes: [],
    summary: 'Learned something',
    ...overrides,
  };
}

export function makeSetChange(
  overrides: Partial<Extract<ProfileChange, { op: 'set' }>> = {},
): ProfileChange {
  return {
    op: 'set',
    section: 'Preferences',
    key: `Key ${next()}`,
    value: `Value ${next()}`,
    evidence: null,
    ...overrides,
  };
}
