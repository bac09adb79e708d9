/**
 * Times that come from outside (a backup, a profile file) are checked before anything computes
 * with them: `new Date(1e20).toISOString()` throws `RangeError: Invalid time value`, and one such
 * value in a stored conversation made every later profile update fail (issue 12).
 */

/** The last millisecond of the year 9999: beyond it a date has no four-digit ISO 8601 year. */
const MAX_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Milliseconds since the epoch that every date function accepts: finite, 0 to year 9999. */
export function isTimestamp(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_TIMESTAMP
  );
}

/** What a refusal says about a value that is not a timestamp, after its path. */
export const TIMESTAMP_RULE = 'must be a time in milliseconds since 1970, up to the year 9999';

/** Whether text is an ISO 8601 date and time that parses to a valid timestamp. */
export function isIsoDateTime(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
    isTimestamp(Date.parse(value))
  );
}
