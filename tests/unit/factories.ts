/** Test data: a fresh database per test and rows with sensible defaults, overridable per field. */
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
