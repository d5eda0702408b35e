/**
 * Where a result store lives: an SQLite file (a path) or a PostgreSQL database (a postgres:// URL, or
 * the word `postgres` for the PG* environment variables alone). Also where a store's initial models
 * and class-subset data live on this machine: next to an SQLite file, or in a per-database folder of
 * the user's cache for PostgreSQL (every machine keeps its own copy; the database holds the shared one).
 */
import os from 'node:os';
import path from 'node:path';
import { modeCacheFolder } from '../core/cache-folder.js';

export type StoreLocation =
  { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string | null; readonly shown: string };

/** `postgres://...`, `postgresql://...`, or `postgres` / `pg` for the PG* environment variables alone. */
export const isPostgresStore = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store) || store === 'postgres' || store === 'pg';

export function storeLocation(store: string): StoreLocation {
  if (!isPostgresStore(store)) return { kind: 'sqlite', file: store };
  const url = store.includes('://') ? store : null;
  return { kind: 'postgres', url, shown: url === null ? describeEnvDatabase() : redactUrl(url) };
}

/** How a store is named in messages: a password never shows. */
export const describeStore = (store: string): string => {
  const location = storeLocation(store);
  return location.kind === 'sqlite' ? location.file : location.shown;
};

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

function describeEnvDatabase(): string {
  const env = process.env;
  return `postgres://${env.PGUSER ?? os.userInfo().username}@${env.PGHOST ?? 'localhost'}:${env.PGPORT ?? '5432'}/${env.PGDATABASE ?? env.PGUSER ?? os.userInfo().username}`;
}

/**
 * The folder a store's models and data live in on this machine: `<file>.models` for SQLite; for
 * PostgreSQL, `$MODE_CACHE` (or `$XDG_CACHE_HOME/mode`, or `~/.cache/mode`) `/stores/<host-port-db>`.
 */
export function storeWorkFolder(store: string): string {
  const location = storeLocation(store);
  if (location.kind === 'sqlite') return `${path.resolve(location.file)}.models`;
  const cache = modeCacheFolder();
  const u = new URL(location.shown);
  const name = `${u.hostname}-${u.port || '5432'}-${u.pathname.replace(/^\//, '')}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(cache, 'stores', name);
}
