/**
 * The one shape of an outcome that can fail with a reason a person reads: `ok` and the fields of
 * `T`, or `ok: false` and the error. Parsers of untrusted input (model answers, backups, profile
 * files, datasets) return it instead of throwing, so a caller cannot forget the failure case.
 */
export type Result<T extends object> = ({ ok: true } & T) | { ok: false; error: string };

/** A result carrying one value. */
export type ValueResult<T> = Result<{ value: T }>;
