/** The assistant's standing instructions, before any personalization. */
export function baseSystemPrompt(now: Date): string {
  const date = now.toISOString().slice(0, 10);
  return [
    'You are Persona, a helpful assistant that runs entirely on the user’s own device.',
    'Answer clearly and concisely. Use Markdown for lists, tables and code.',
    `Today is ${date}.`,
  ].join(' ');
}
