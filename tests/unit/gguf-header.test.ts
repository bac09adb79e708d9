import { existsSync, openAsBlob } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors';
import { readGgufHeader } from '../../src/engine/gguf-header';
import { makeTinyGguf } from '../fixtures/make-tiny-gguf';

const generated = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/generated/${name}`, import.meta.url));
const SMOLLM2 = generated('SmolLM2-135M-Instruct.Q4_1.gguf');

/** A header-only GGUF, for the layouts the tiny model does not have. */
function ggufHeader(
  kvs: [string, Value][],
  options: { magic?: string; version?: number } = {},
): Uint8Array {
  const bytes: number[] = [];
  const u32 = (n: number): void => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    bytes.push(...b);
  };
  const u64 = (n: number): void => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    bytes.push(...b);
  };
  const str = (s: string): void => {
    const encoded = new TextEncoder().encode(s);
    u64(encoded.length);
    bytes.push(...encoded);
  };
  bytes.push(...new TextEncoder().encode(options.magic ?? 'GGUF'));
  u32(options.version ?? 3);
  u64(0);
  u64(kvs.length);
  for (const [key, value] of kvs) {
    str(key);
    switch (value.kind) {
      case 'string':
        u32(8);
        str(value.value);
        break;
      case 'u32':
        u32(4);
        u32(value.value);
        break;
      case 'array':
        u32(9);
        u32(value.strings ? 8 : 4);
        u64(value.items.length);
        for (const item of value.items) {
          if (typeof item === 'string') str(item);
          else u32(item);
        }
        break;
      case 'raw':
        u32(value.type);
        bytes.push(...value.bytes);
    }
  }
  return Uint8Array.from(bytes);
}

type Value =
  | { kind: 'string'; value: string }
  | { kind: 'u32'; value: number }
  | { kind: 'array'; strings: boolean; items: (string | number)[] }
  | { kind: 'raw'; type: number; bytes: number[] };

// The fixture's bytes sit in a plain ArrayBuffer; TypeScript cannot tell from its return type.
const blob = (bytes: Uint8Array): Blob => new Blob([bytes as Uint8Array<ArrayBuffer>]);

async function refusal(file: Blob): Promise<AppError> {
  const error: unknown = await readGgufHeader(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('readGgufHeader', () => {
  it('reads the architecture and trained context of a whole tiny model, tensors and all', async () => {
    // Built in memory as `npm run fixtures` builds it, so the unit tests need no generated file.
    const header = await readGgufHeader(blob(makeTinyGguf({ contextLength: 4096 })));
    expect(header).toEqual({ architecture: 'llama', contextLength: 4096 });
  });

  it('reads the context a tiny model declares, whatever it is', async () => {
    for (const contextLength of [128, 512, 32768]) {
      const header = await readGgufHeader(blob(makeTinyGguf({ contextLength })));
      expect(header).toEqual({ architecture: 'llama', contextLength });
    }
  });

  it('reads a real model (SmolLM2-135M)', async () => {
    expect(existsSync(SMOLLM2), 'run `npm run fixtures:real` first').toBe(true);
    const header = await readGgufHeader(await openAsBlob(SMOLLM2));
    expect(header).toEqual({ architecture: 'llama', contextLength: 8192 });
  });

  it('finds the context length when it comes before the architecture, past arrays', async () => {
    const header = await readGgufHeader(
      blob(
        ggufHeader([
          ['qwen2.context_length', { kind: 'u32', value: 32768 }],
          ['tokenizer.ggml.tokens', { kind: 'array', strings: true, items: ['a', 'bc', 'def'] }],
          ['tokenizer.ggml.token_type', { kind: 'array', strings: false, items: [1, 2, 3] }],
          ['general.flag', { kind: 'raw', type: 7, bytes: [1] }],
          ['general.architecture', { kind: 'string', value: 'qwen2' }],
        ]),
      ),
    );
    expect(header).toEqual({ architecture: 'qwen2', contextLength: 32768 });
  });

  it('ignores the context length of another architecture', async () => {
    const header = await readGgufHeader(
      blob(
        ggufHeader([
          ['general.architecture', { kind: 'string', value: 'llama' }],
          ['gemma.context_length', { kind: 'u32', value: 8192 }],
        ]),
      ),
    );
    expect(header).toEqual({ architecture: 'llama', contextLength: null });
  });

  it('accepts version 2 and reports a header without metadata as unknown', async () => {
    const header = await readGgufHeader(blob(ggufHeader([], { version: 2 })));
    expect(header).toEqual({ architecture: null, contextLength: null });
  });

  it('refuses a truncated model', async () => {
    const tiny = makeTinyGguf();
    // Cut inside the first key, after the fixed header (magic, version and two counts: 24 bytes).
    const error = await refusal(blob(tiny.slice(0, 30)));
    expect(error.code).toBe('invalid-model');
    expect(error.message).toMatch(/truncated/i);
    expect((await refusal(blob(tiny.slice(0, 10)))).message).toMatch(/truncated/i);
  });

  it('refuses a file that is not GGUF', async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256);
    const error = await refusal(blob(garbage));
    expect(error.code).toBe('invalid-model');
    expect(error.message).toBe('The file is not a GGUF model (its header is wrong).');
    expect((await refusal(new Blob([]))).message).toMatch(/truncated/i);
  });

  it('says so when the server answered with a web page', async () => {
    const page = new Blob(['\n  <!doctype html><html><body>Not here</body></html>']);
    const error = await refusal(page);
    expect(error.code).toBe('invalid-model');
    expect(error.message).toMatch(/web page/);
  });

  it('refuses an unsupported version', async () => {
    const error = await refusal(blob(ggufHeader([], { version: 1 })));
    expect(error.message).toBe('GGUF version 1 is not supported.');
    expect((await refusal(blob(ggufHeader([], { version: 4 })))).code).toBe('invalid-model');
  });

  it('refuses an unknown value type and an impossible count', async () => {
    const unknownType = ggufHeader([
      ['general.odd', { kind: 'raw', type: 13, bytes: [0, 0, 0, 0] }],
    ]);
    expect((await refusal(blob(unknownType))).message).toMatch(/unknown value type 13/);

    const hugeCount = ggufHeader([]);
    // The metadata count is the u64 at bytes 16-23; 2^63 cannot be a real count.
    new DataView(hugeCount.buffer).setBigUint64(16, 1n << 63n, true);
    expect((await refusal(blob(hugeCount))).message).toMatch(/corrupt/);
  });
});
