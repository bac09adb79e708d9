/**
 * A deliberately high token estimate for when no tokenizer is loaded: over-counting only makes the
 * profile look full sooner, under-counting would overflow the context window. English BPE averages
 * about 4 characters a token, so ASCII counts one per 3.5 characters; other scripts (Chinese,
 * accented Latin) often cost a token or more per character, so each such character counts 1.5, and
 * characters outside the Basic Multilingual Plane (emoji, rare CJK) count 2.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) ascii += 1;
    else if (code > 0xffff) other += 2;
    else other += 1.5;
  }
  return Math.ceil(ascii / 3.5 + other);
}
