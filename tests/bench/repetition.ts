/**
 * `npm run bench:repetition [-- --seeds N]`: how often a small model loops until the reply length
 * limit instead of ending its reply, with and without the app's repeat penalty.
 *
 * SmolLM2-135M answers everyday questions with the app's system prompt and chat sampling, once per
 * seed, on native llama.cpp (node-llama-cpp): the same sampler chain wllama runs in the browser
 * (top-k 40, top-p 0.95, min-p 0.05, llama.cpp's server defaults), at native speed, so a loop of
 * 1024 tokens costs seconds rather than a minute. Both settings see the same seeds and prompts, one
 * after the other per sample, so load on the machine cannot favour one. Counts, not times: the
 * figures do not depend on the machine's speed.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getLlama, LlamaChatSession } from 'node-llama-cpp';
import {
  CHAT_REPEAT_PENALTY,
  CHAT_TEMPERATURE,
  MAX_REPLY_TOKENS,
  baseSystemPrompt,
} from '../../src/core/chat/system-prompt';
import { REPEAT_PENALTY_WINDOW } from '../../src/engine/engine';
import { SMOLLM2_FILE } from '../fixtures/fetch-smollm2';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '8' } } });
const seeds = Number(values.seeds);
if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds takes a positive integer');

const modelPath = process.env.PERSONA_SMOLLM2_GGUF ?? `tests/fixtures/generated/${SMOLLM2_FILE}`;
if (!existsSync(modelPath)) {
  console.error(`${modelPath} is missing: run npm run fixtures:real first.`);
  process.exit(1);
}

/** Questions a user asks every day, short and open-ended alike. */
const QUESTIONS = [
  'What is the capital of France?',
  'Suggest a dinner for tonight.',
  'How do I boil an egg?',
  'Tell me about dogs.',
  'Write a haiku about rain.',
  'What should I do this weekend?',
];

const SETTINGS = [
  { name: 'no penalty', repeatPenalty: false as const },
  {
    name: `repeat penalty ${CHAT_REPEAT_PENALTY} (the app)`,
    repeatPenalty: { penalty: CHAT_REPEAT_PENALTY, lastTokens: REPEAT_PENALTY_WINDOW },
  },
];

const llama = await getLlama({ gpu: false, build: 'never' });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 2048, threads: 1 });
// A fixed date: the prompt, and so every sample, is the same on every day the bench runs.
const systemPrompt = baseSystemPrompt(new Date('2026-12-02T12:00:00Z'));

interface Tally {
  cutOff: number;
  tokens: number[];
  cutOffQuestions: string[];
}
const tallies = SETTINGS.map((): Tally => ({ cutOff: 0, tokens: [], cutOffQuestions: [] }));

for (const question of QUESTIONS) {
  for (let seed = 1; seed <= seeds; seed++) {
    for (const [i, setting] of SETTINGS.entries()) {
      const sequence = context.getSequence();
      const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt });
      const result = await session.promptWithMeta(question, {
        maxTokens: MAX_REPLY_TOKENS,
        temperature: CHAT_TEMPERATURE,
        topK: 40,
        topP: 0.95,
        minP: 0.05,
        seed,
        repeatPenalty: setting.repeatPenalty,
      });
      const tally = tallies[i];
      if (tally) {
        tally.tokens.push(model.tokenize(result.responseText).length);
        if (result.stopReason === 'maxTokens') {
          tally.cutOff++;
          tally.cutOffQuestions.push(`${question} (seed ${seed})`);
        }
      }
      session.dispose();
      await sequence.dispose();
    }
  }
}

const samples = QUESTIONS.length * seeds;
console.log(
  `SmolLM2-135M, ${QUESTIONS.length} questions × ${seeds} seeds, temperature ${CHAT_TEMPERATURE}, limit ${MAX_REPLY_TOKENS} tokens`,
);
for (const [i, setting] of SETTINGS.entries()) {
  const tally = tallies[i];
  if (!tally) continue;
  const sorted = [...tally.tokens].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `${setting.name.padEnd(34)} cut off at the limit: ${String(tally.cutOff).padStart(2)}/${samples} (${((100 * tally.cutOff) / samples).toFixed(0)}%) · reply tokens min/median/max ${sorted[0] ?? 0}/${median}/${sorted.at(-1) ?? 0}`,
  );
  if (tally.cutOffQuestions.length > 0)
    console.log(`  cut off: ${tally.cutOffQuestions.join('; ')}`);
}
await context.dispose();
await model.dispose();
