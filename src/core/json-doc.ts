/**
 * Reading the JSON documents mode writes (analysis.json, repair.json, store rows): parse, then
 * validate with the document's zod schema. A file that is not JSON, or not that document, fails with
 * one line naming the file and the first field that does not fit.
 */
import type { z } from 'zod';
import { ModeError } from './errors.js';

export interface DocKind {
  /** What the document is, for messages: "a repair.json". */
  readonly what: string;
  /** How to get a good one: "pass a folder written by `mode repair`". */
  readonly fix: string;
}

/** Validates an already parsed value against a document's schema. */
export function checkDoc<S extends z.ZodType>(schema: S, value: unknown, file: string, kind: DocKind): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const docKind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  const reason = docKind === undefined ? 'it has no "kind" field' : `bad field${where}: ${issue.message}`;
  throw new ModeError('data', `${file} is not ${kind.what} of this mode (${reason}); ${kind.fix}`);
}

/** Parses JSON text and validates it against a document's schema. */
export function parseDoc<S extends z.ZodType>(schema: S, text: string, file: string, kind: DocKind): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModeError('data', `${file} is not JSON (${(error as Error).message}); ${kind.fix}`);
  }
  return checkDoc(schema, value, file, kind);
}
