import { describe, expect, it } from 'vitest';
import {
  LONG_MESSAGE_PREVIEW_CHARS,
  MAX_MARKDOWN_CHARS,
  messageDisplay,
} from '../../src/core/chat/long-message';

describe('messageDisplay (issue 12)', () => {
  it('renders ordinary messages as Markdown, whole', () => {
    const text = '**bold** '.repeat(100);
    expect(messageDisplay(text, false)).toEqual({ kind: 'markdown', text });
    const longest = 'x'.repeat(MAX_MARKDOWN_CHARS);
    expect(messageDisplay(longest, false).kind).toBe('markdown');
  });

  it('shows a very long message as plain text, a preview until asked for all of it', () => {
    const huge = 'a'.repeat(1_000_000);
    const preview = messageDisplay(huge, false);
    expect(preview).toEqual({
      kind: 'plain',
      text: 'a'.repeat(LONG_MESSAGE_PREVIEW_CHARS),
      hiddenChars: 1_000_000 - LONG_MESSAGE_PREVIEW_CHARS,
    });
    expect(messageDisplay(huge, true)).toEqual({ kind: 'plain', text: huge, hiddenChars: 0 });
  });

  it('never cuts an emoji in half at the end of the preview', () => {
    const text = 'a'.repeat(LONG_MESSAGE_PREVIEW_CHARS - 1) + '😀'.repeat(MAX_MARKDOWN_CHARS);
    const shown = messageDisplay(text, false);
    expect(shown.text).toBe('a'.repeat(LONG_MESSAGE_PREVIEW_CHARS - 1));
    expect(shown.kind === 'plain' && shown.hiddenChars).toBe(text.length - shown.text.length);
  });
});
