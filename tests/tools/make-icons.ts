/**
 * Writes the app's install icons (`public/pwa-192.png`, `public/pwa-512.png`,
 * `public/pwa-maskable-512.png`) from the same drawing as `public/icon.svg`: a light figure (head
 * and shoulders) on the dark theme colour. Drawn here with signed distances and supersampling
 * rather than by an image library, so no dependency and no third-party artwork is needed; the
 * output is deterministic, so re-running it changes no committed file.
 *
 *   npx tsx tests/tools/make-icons.ts
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

/** The drawing, in the 64×64 units of `public/icon.svg`. */
const BACKGROUND: Rgb = [0x1f, 0x29, 0x37];
const FIGURE: Rgb = [0xf9, 0xfa, 0xfb];
const CORNER_RADIUS = 14;
const HEAD = { x: 32, y: 25, r: 11 };
/** The shoulders: the upper half of an ellipse standing on y = 54. */
const SHOULDERS = { x: 32, y: 54, rx: 19, ry: 17 };

type Rgb = [number, number, number];

interface IconSpec {
  file: string;
  size: number;
  /**
   * Maskable icons are cropped by the platform to any shape inside the centre circle of 80% of
   * the width: the background fills the whole square and the figure shrinks into that circle.
   */
  maskable: boolean;
}

const ICONS: IconSpec[] = [
  { file: 'pwa-192.png', size: 192, maskable: false },
  { file: 'pwa-512.png', size: 512, maskable: false },
  { file: 'pwa-maskable-512.png', size: 512, maskable: true },
];

/** Samples per pixel along each axis: 4×4 gives smooth edges at every size. */
const SUPERSAMPLE = 4;

function insideRoundedSquare(x: number, y: number): boolean {
  const r = CORNER_RADIUS;
  const cx = Math.min(Math.max(x, r), 64 - r);
  const cy = Math.min(Math.max(y, r), 64 - r);
  return x >= 0 && x <= 64 && y >= 0 && y <= 64 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function insideFigure(x: number, y: number): boolean {
  if ((x - HEAD.x) ** 2 + (y - HEAD.y) ** 2 <= HEAD.r ** 2) return true;
  const { x: sx, y: sy, rx, ry } = SHOULDERS;
  return y <= sy && ((x - sx) / rx) ** 2 + ((y - sy) / ry) ** 2 <= 1;
}

/** RGBA pixels of one icon, drawn in 64-unit space scaled to `size`. */
function draw({ size, maskable }: IconSpec): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  // The figure spans about 46 units; 0.75 keeps it well inside the maskable safe circle.
  const figureScale = maskable ? 0.75 : 1;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let background = 0;
      let figure = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = ((px + (sx + 0.5) / SUPERSAMPLE) / size) * 64;
          const y = ((py + (sy + 0.5) / SUPERSAMPLE) / size) * 64;
          if (!maskable && !insideRoundedSquare(x, y)) continue;
          background++;
          const fx = 32 + (x - 32) / figureScale;
          const fy = 36 + (y - 36) / figureScale;
          if (insideFigure(fx, fy)) figure++;
        }
      }
      const samples = SUPERSAMPLE * SUPERSAMPLE;
      const at = (py * size + px) * 4;
      const mix = background > 0 ? figure / background : 0;
      pixels.set(blend(BACKGROUND, FIGURE, mix), at);
      pixels[at + 3] = Math.round((background / samples) * 255);
    }
  }
  return pixels;
}

function blend([r1, g1, b1]: Rgb, [r2, g2, b2]: Rgb, t: number): Rgb {
  const mix = (a: number, b: number): number => Math.round(a * (1 - t) + b * t);
  return [mix(r1, r2), mix(g1, g2), mix(b1, b2)];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A truecolour-with-alpha PNG, every scanline unfiltered (filter byte 0). */
function encodePng(size: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0;
    rows.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

for (const icon of ICONS) {
  const png = encodePng(icon.size, draw(icon));
  writeFileSync(new URL(`../../public/${icon.file}`, import.meta.url), png);
  console.log(`wrote public/${icon.file} (${png.length} bytes)`);
}
