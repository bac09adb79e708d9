import { describe, expect, it } from 'vitest';
import {
  buildPolicy,
  headerPolicy,
  ORIGIN_PATTERN,
  originOf,
  USER_HOSTS_PLACEHOLDER,
} from '../../src/core/security/csp';

describe('content security policy', () => {
  it('allows scripts only from the app, with WebAssembly but no eval or inline code', () => {
    const policy = buildPolicy({ connect: [] });
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(policy).not.toContain("'unsafe-inline'");
    expect(policy).not.toContain("'unsafe-eval'");
    expect(policy).toContain("style-src 'self';");
  });

  it('adds the given origins to connect-src only', () => {
    const policy = buildPolicy({ connect: ['http://192.168.1.20:8080'] });
    const connect = policy.split('; ').find((d) => d.startsWith('connect-src'));
    expect(connect).toContain('https://huggingface.co');
    expect(connect?.endsWith(' http://192.168.1.20:8080')).toBe(true);
    expect(buildPolicy({ connect: [USER_HOSTS_PLACEHOLDER] })).toContain(USER_HOSTS_PLACEHOLDER);
  });

  it('sends frame-ancestors in the header, which a meta policy cannot carry', () => {
    expect(headerPolicy()).toContain("frame-ancestors 'none'");
  });

  it('reduces model URLs to origins a policy can name', () => {
    expect(originOf('http://127.0.0.1:4180/models/tiny.gguf')).toBe('http://127.0.0.1:4180');
    expect(originOf('https://Models.Example.org/a/b')).toBe('https://models.example.org');
    expect(originOf('http://[::1]:8080/x.gguf')).toBe('http://[::1]:8080');
    expect(originOf('ftp://example.org/x')).toBeNull();
    expect(originOf('javascript:alert(1)')).toBeNull();
    expect(originOf('not a url')).toBeNull();
  });

  it('refuses stored origins that would inject sources or directives', () => {
    for (const hostile of [
      "http://a.example; script-src 'unsafe-inline'",
      'http://a.example *',
      'https://*',
      "'unsafe-eval'",
      'http://a.example/path',
      'data:',
    ]) {
      expect(ORIGIN_PATTERN.test(hostile)).toBe(false);
    }
  });
});
