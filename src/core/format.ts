/** Human-readable byte counts: 1.2 GB, 640 MB, 12 kB (decimal units, as disks and browsers report). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value >= 100 || unit === 0 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit] ?? 'B'}`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** A rough duration for an ETA: 45 s, 12 min, 3 h 20 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
}

/**
 * The text as one sentence ending in exactly one full stop, so messages joined from parts read
 * right: not "…a reserved name Nothing was changed." nor "…12 sections.. Nothing".
 */
export function asSentence(text: string): string {
  const trimmed = text.trim().replace(/[.\s]+$/u, '');
  return /[!?…]$/u.test(trimmed) ? trimmed : `${trimmed}.`;
}
