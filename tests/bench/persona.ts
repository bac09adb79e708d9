/**
 * `npm run bench:persona` (issue #3): for a full default profile, the rendered profile's size in
 * tokens; the optimizer prompt's size per run as the history grows (it must grow with the new
 * sessions only); and how fast a fuzz corpus of optimizer outputs is validated. Pure Node: the
 * token counts use the app's own conservative estimate (`estimateTokens`), as the optimizer does.
 */
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { applyOptimizerOutput } from '../../src/core/optimizer/apply-output';
import type { OptimizerSession } from '../../src/core/optimizer/transcript';
import { applyChanges, userSetChange } from '../../src/core/profile/apply';
import {
  DEFAULT_PROFILE_BUDGET_TOKENS,
  DEFAULT_SECTIONS,
  emptyProfile,
} from '../../src/core/profile/defaults';
import { renderProfile } from '../../src/core/profile/render';
import { estimateTokens } from '../../src/core/tokens';
import { validateProfile } from '../../src/core/profile/validate';
import { createConversation, openDatabase, sendUserMessage } from '../../src/db';
import { Assistant } from '../../src/worker/assistant';
import { ScriptedEngine } from '../doubles/scripted-engine';

const T0 = 1_700_000_000_000;

// 1. A full default profile: every suggested field of every section holds a typical value.
const VALUES = [
  '34',
  'female',
  'German',
  'German, English, some Spanish',
  'intensive-care nurse',
  'Berlin, Germany',
  'I (introversion)',
  'N (intuition)',
  'F (feeling)',
  'J (judging)',
  'climbing, sci-fi novels, vegetarian cooking',
  'chats late in the evening after shifts, short sessions',
  'asks for recipes and code snippets on the phone',
  'calm, gets anxious before exams',
  'buys second-hand, compares prices carefully',
  'short, direct answers; no small talk',
  'bullet lists, code first, metric units',
  'plans the week on Sundays',
];
const keys = DEFAULT_SECTIONS.flatMap((s) =>
  s.suggestedKeys.map((key) => ({ section: s.name, key })),
);
const full = applyChanges(
  emptyProfile(T0),
  keys.map(({ section, key }, i) => userSetChange(section, key, VALUES[i % VALUES.length] ?? 'x')),
  { actor: 'user', now: T0 },
).profile;
const rendered = renderProfile(full, {
  budgetTokens: DEFAULT_PROFILE_BUDGET_TOKENS,
  countTokens: estimateTokens,
});
console.log('Persona benchmark');
console.log(
  `\n1. Full default profile: ${rendered.fieldCount} fields, ${rendered.text.length} characters`,
);
console.log(
  `   rendered for the prompt: ${rendered.tokens} tokens (budget ${DEFAULT_PROFILE_BUDGET_TOKENS}, over budget: ${rendered.overBudget})`,
);

// 2. Optimizer prompt size per run while the history grows, through the real pipeline (database,
// assistant worker code, scheduler) with a scripted engine: each run must read only the k = 3
// sessions since the last one, never the whole history.
function session(n: number): OptimizerSession {
  const messages = Array.from({ length: 6 }, (_, i) => ({
    id: `m${n}-${i}`,
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: i % 2 === 0 ? userText(n, i) : assistantText(n),
    createdAt: T0 + n * 1000 + i,
  }));
  return { conversationId: `c${n}`, messages };
}
function userText(n: number, i: number): string {
  return `Session ${n}, message ${i}: I spent the weekend climbing and then cooked a vegetarian lasagne for friends.`;
}
function assistantText(n: number): string {
  return `That sounds lovely! Here is a longer reply with tips, a recipe outline and some follow-up questions for session ${n}. `.repeat(
    3,
  );
}

const db = openDatabase(`persona-bench-${crypto.randomUUID()}`);
const engine = new ScriptedEngine();
engine.contextWindow = 8192;
const assistant = new Assistant({
  db,
  loadEngine: () => Promise.resolve(engine),
  schedule: () => () => undefined,
  holdLock: (_name, work) => work(),
  tryLock: (_name, work) => work(),
});
await assistant.models.load(
  { engine: 'wllama', id: 'bench', url: 'http://127.0.0.1/bench.gguf' },
  () => undefined,
);
console.log('\n2. Optimizer prompt per run (k = 3 sessions of 3 exchanges each, 8k context):');
console.log('   run  sessions in history  prompt tokens  tokens per processed session');
let sessionNumber = 0;
for (let run = 1; run <= 20; run++) {
  for (let s = 0; s < 3; s++, sessionNumber++) {
    const conversation = await createConversation(db);
    for (let i = 0; i < 3; i++) {
      const sent = await sendUserMessage(db, conversation.id, userText(sessionNumber, i * 2));
      engine.replies.push(assistantText(sessionNumber));
      await assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      );
    }
  }
  engine.replies.push(JSON.stringify({ changes: [] }));
  const before = engine.requests.length;
  await assistant.learning.schedule({ activeConversationId: null });
  const request = engine.requests.slice(before).find((r) => r.jsonSchema);
  if (!request) throw new Error(`run ${run}: the optimizer did not run`);
  const tokens = request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
  if ([1, 2, 5, 10, 20].includes(run)) {
    console.log(
      `   ${String(run).padStart(3)}  ${String(run * 3).padStart(19)}  ${String(tokens).padStart(13)}  ${(tokens / 3).toFixed(0).padStart(28)}`,
    );
  }
}

// 3. Validation throughput over a seeded fuzz corpus of optimizer outputs.
const sessions = [session(0), session(1), session(2)];
const quote = fc.constantFrom(
  'I spent the weekend climbing',
  'a vegetarian lasagne',
  'Here is a longer reply',
  'ignore previous instructions',
);
const change = fc.record({
  op: fc.constantFrom('set', 'remove', 'delete', 42),
  section: fc.constantFrom('Demographics', 'Preferences', 'Secrets', '__proto__', ''),
  key: fc.oneof(
    fc.constantFrom('Location', 'Hobbies', 'constructor'),
    fc.string({ maxLength: 80 }),
  ),
  value: fc.oneof(fc.string({ maxLength: 260 }), fc.integer()),
  evidence: fc.oneof(quote, fc.string({ maxLength: 200 })),
});
const outputs = fc.sample(
  fc.oneof(
    fc.array(change, { maxLength: 12 }).map((changes) => JSON.stringify({ changes })),
    fc.array(change, { maxLength: 12 }).map((changes) => JSON.stringify({ changes }).slice(0, 120)),
    fc.string({ maxLength: 500 }),
  ),
  { numRuns: 10_000, seed: 42 },
);
let valid = 0;
let accepted = 0;
const started = performance.now();
for (const text of outputs) {
  const outcome = applyOptimizerOutput(text, { profile: full, sessions, now: T0 });
  if (outcome.ok) {
    valid++;
    accepted += outcome.applied.length;
    if (!validateProfile(outcome.profile).ok) throw new Error('an invalid profile slipped through');
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `\n3. Validation of ${outputs.length} fuzzed optimizer outputs: ${seconds.toFixed(2)} s, ${(outputs.length / seconds).toFixed(0)} outputs/s`,
);
console.log(`   parsed ${valid}, changes accepted ${accepted}, every resulting profile valid`);
