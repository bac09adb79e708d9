/**
 * Reads the metadata at the start of a `.gguf` file, for two reasons: a file that is not GGUF
 * gets a clear `invalid-model` error before the wasm runtime starts, and the context the model
 * was trained for caps the one we allocate (llama.cpp would allocate more and then degrade).
 *
 * Not `@huggingface/gguf` (checked at 0.4.6): it parses files by URL through `fetch` with range
 * requests, while ours are Blobs already in OPFS, and it depends on `@huggingface/tasks`, a large
 * package of Hub metadata, for two numbers read from the first kilobytes of the file.
 */
import { AppError } from '../core/errors';

export interface GgufHeader {
  architecture: string | null;
  contextLength: number | null;
}

export async function readGgufHeader(blob: Blob): Promise<GgufHeader> {
  const reader = new BlobReader(blob);
  const magic = await reader.bytes(4);
  if (new TextDecoder().decode(magic) !== 'GGUF') {
    const looksLikeHtml = /^\s*</.test(await blob.slice(0, 64).text());
    throw new AppError(
      'invalid-model',
      looksLikeHtml
        ? 'The server answered with a web page, not a .gguf model. Check the URL.'
        : 'The file is not a GGUF model (its header is wrong).',
    );
  }
  const version = await reader.u32();
  if (version < 2 || version > 3) {
    throw new AppError('invalid-model', `GGUF version ${version} is not supported.`);
  }
  await reader.u64(); // tensor count
  const kvCount = await reader.u64();
  const header: GgufHeader = { architecture: null, contextLength: null };
  const numbers = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const key = await reader.string();
    const type = await reader.u32();
    if (key === 'general.architecture' && type === GGUF_STRING) {
      header.architecture = await reader.string();
    } else if (key.endsWith('.context_length') && isIntegerType(type)) {
      numbers.set(key, await reader.integer(type));
    } else {
      await reader.skipValue(type);
    }
    const wanted = header.architecture && numbers.get(`${header.architecture}.context_length`);
    if (wanted) {
      header.contextLength = wanted;
      break;
    }
  }
  return header;
}

const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
/** Byte sizes of the fixed-size GGUF value types, by type id. */
const GGUF_FIXED_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

function isIntegerType(type: number): boolean {
  return type <= 5 || type === 10 || type === 11;
}

/** Sequential little-endian reads from a Blob, a megabyte at a time. */
class BlobReader {
  private chunk = new DataView(new ArrayBuffer(0));
  private chunkStart = 0;
  private position = 0;

  constructor(private readonly blob: Blob) {}

  private async ensure(length: number): Promise<void> {
    const end = this.position + length;
    if (this.position >= this.chunkStart && end <= this.chunkStart + this.chunk.byteLength) return;
    if (end > this.blob.size) {
      throw new AppError('invalid-model', 'The GGUF file is truncated.');
    }
    const size = Math.max(length, 1 << 20);
    const buffer = await this.blob.slice(this.position, this.position + size).arrayBuffer();
    this.chunk = new DataView(buffer);
    this.chunkStart = this.position;
  }

  async bytes(length: number): Promise<Uint8Array> {
    await this.ensure(length);
    const offset = this.position - this.chunkStart;
    this.position += length;
    return new Uint8Array(this.chunk.buffer, offset, length).slice();
  }

  async u32(): Promise<number> {
    await this.ensure(4);
    const value = this.chunk.getUint32(this.position - this.chunkStart, true);
    this.position += 4;
    return value;
  }

  async u64(): Promise<number> {
    await this.ensure(8);
    const value = this.chunk.getBigUint64(this.position - this.chunkStart, true);
    this.position += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new AppError('invalid-model', 'The GGUF header is corrupt.');
    }
    return Number(value);
  }

  async integer(type: number): Promise<number> {
    const size = GGUF_FIXED_SIZE[type] ?? 0;
    if (size === 8) return this.u64();
    await this.ensure(size);
    const at = this.position - this.chunkStart;
    this.position += size;
    switch (type) {
      case 0:
        return this.chunk.getUint8(at);
      case 1:
        return this.chunk.getInt8(at);
      case 2:
        return this.chunk.getUint16(at, true);
      case 3:
        return this.chunk.getInt16(at, true);
      case 4:
        return this.chunk.getUint32(at, true);
      default:
        return this.chunk.getInt32(at, true);
    }
  }

  async string(): Promise<string> {
    const length = await this.u64();
    return new TextDecoder().decode(await this.bytes(length));
  }

  async skipValue(type: number): Promise<void> {
    if (type === GGUF_STRING) {
      // Read first: `position += await …` would add to the position from before the read.
      const length = await this.u64();
      this.position += length;
      return;
    }
    if (type === GGUF_ARRAY) {
      const itemType = await this.u32();
      const count = await this.u64();
      const fixed = GGUF_FIXED_SIZE[itemType];
      if (fixed !== undefined) {
        this.position += fixed * count;
      } else {
        for (let i = 0; i < count; i++) await this.skipValue(itemType);
      }
      return;
    }
    const fixed = GGUF_FIXED_SIZE[type];
    if (fixed === undefined) {
      throw new AppError('invalid-model', `The GGUF header has an unknown value type ${type}.`);
    }
    this.position += fixed;
  }
}
