import DOMPurify from 'dompurify';
import { Marked } from 'marked';

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/**
 * A remote image is a request to a third party made without asking, so Markdown images become
 * plain links the user can choose to follow; raw `<img>` tags are removed by the sanitizer.
 */
const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
  },
});

/**
 * Every element that fetches something by itself, with no click: media and its sources, embeds,
 * frames, and SVG or MathML (whose `<image>`, `<use>` and `href` load too). Nothing leaves the
 * device unasked must not rest on the Content Security Policy alone (issue 12).
 */
const REMOTE_RESOURCE_TAGS = [
  'img',
  'image',
  'picture',
  'video',
  'audio',
  'source',
  'track',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'portal',
  'link',
  'meta',
  'base',
  'svg',
  'math',
] as const;

/** Attributes that load a resource (or send a request) without a click, on any element. */
const REMOTE_RESOURCE_ATTRIBUTES = [
  'src',
  'srcset',
  'imagesrcset',
  'poster',
  'background',
  'lowsrc',
  'dynsrc',
  'data',
  'codebase',
  'archive',
  'longdesc',
  'ping',
  'action',
  'formaction',
  'manifest',
  'xlink:href',
] as const;

// A link's address is fetched only when the user follows it; on any other element `href` may load.
DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName === 'href' && node.tagName !== 'A') data.keepAttr = false;
});

// Links open in a new tab that cannot reach back into ours.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** Markdown to HTML that is safe to insert: model output and user text are both untrusted. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: [
      ...REMOTE_RESOURCE_TAGS,
      'style',
      'form',
      'input',
      'button',
      'textarea',
      'select',
    ],
    FORBID_ATTR: [...REMOTE_RESOURCE_ATTRIBUTES, 'style'],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  });
}
