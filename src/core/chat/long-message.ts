/**
 * How a message is shown. Markdown parsing and sanitizing cost grows with the text, and a
 * 1,000,000-character message (the most a backup allows) blocked the page for 15 s (issue 12).
 * Past a length no reply reaches, a message is shown as plain text, a preview first, the rest
 * when asked: text in a text node needs no parsing and no sanitizing.
 */

/** Longer than any model reply (a context window is a few thousand tokens) and than a typed note. */
export const MAX_MARKDOWN_CHARS = 30_000;
/** What a long message shows before the user asks for the rest. */
export const LONG_MESSAGE_PREVIEW_CHARS = 10_000;

export type MessageDisplay =
  { kind: 'markdown'; text: string } | { kind: 'plain'; text: string; hiddenChars: number };

export function messageDisplay(content: string, showAll: boolean): MessageDisplay {
  if (content.length <= MAX_MARKDOWN_CHARS) return { kind: 'markdown', text: content };
  if (showAll) return { kind: 'plain', text: content, hiddenChars: 0 };
  // Never cut a surrogate pair in two: half an emoji would show as a replacement character.
  let end = LONG_MESSAGE_PREVIEW_CHARS;
  const last = content.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return { kind: 'plain', text: content.slice(0, end), hiddenChars: content.length - end };
}
