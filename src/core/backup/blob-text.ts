/**
 * A file's text, piece by piece: `chunkChars` bytes are read at a time and decoded as UTF-8 with
 * a streaming decoder, so a character split between two reads comes out whole, and the file is
 * never held at once (issue 11). Bytes that are not UTF-8 become U+FFFD, as `Blob.text()` makes
 * them, so every file the whole-file reader took is read the same.
 */
export async function* blobTextChunks(blob: Blob, chunkBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for (let offset = 0; offset < blob.size; offset += chunkBytes) {
    const bytes = await blob.slice(offset, offset + chunkBytes).arrayBuffer();
    const text = decoder.decode(bytes, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}
