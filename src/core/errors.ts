/**
 * One error base class for the whole project. Every error we raise on purpose carries a stable
 * `code`; the CLI prints its message on one line and exits 2 for usage/config errors, 1 otherwise.
 * Messages say what happened, the value received, what was expected and how to fix it.
 */
export const ERROR_CODES = ['usage', 'config', 'data', 'shape', 'model', 'engine', 'io', 'internal'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class ModeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModeError';
    this.code = code;
  }
}

/** Usage and configuration errors exit with 2; everything else with 1. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ModeError && (error.code === 'usage' || error.code === 'config')) return 2;
  return 1;
}

export const usageError = (message: string): ModeError => new ModeError('usage', message);
export const configError = (message: string): ModeError => new ModeError('config', message);
export const dataError = (message: string): ModeError => new ModeError('data', message);
export const shapeError = (message: string): ModeError => new ModeError('shape', message);
export const modelError = (message: string): ModeError => new ModeError('model', message);

/** "must be one of [a, b, c]" for an unknown name in a table of variants. */
export function oneOf<T extends string>(what: string, value: string, valid: readonly T[]): T {
  if ((valid as readonly string[]).includes(value)) return value as T;
  throw usageError(`unknown ${what} '${value}': must be one of [${valid.join(', ')}]`);
}
