/**
 * A throwaway PostgreSQL server for tests: Debian's postgresql binaries, a cluster in a temporary
 * folder, listening on a free loopback port with password authentication, started and stopped by the
 * test itself. Where PostgreSQL is not installed, `startPostgres` resolves to null and tests skip,
 * except under CI (the CI variable), where that is an error: .ci/run installs it
 * (scripts/install-postgres.sh).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** A URL of a database of this server. */
  url(database: string, credentials?: { user: string; password: string }): string;
  /** Creates an empty database; resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL on a database as the superuser (to set up bad stores). */
  sql(database: string, statement: string): Promise<pg.QueryResult>;
  stop(): void;
}

function postgresBin(): string | null {
  if (process.env.MODE_PG_BIN !== undefined) return process.env.MODE_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : path.join(root, versions[0]!, 'bin');
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** Starts a server, or resolves to null where PostgreSQL is missing (an error under CI). */
export async function startPostgres(): Promise<PostgresServer | null> {
  const bin = postgresBin();
  if (bin === null) {
    if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0')
      throw new Error('PostgreSQL is not installed, and CI runs its tests; run scripts/install-postgres.sh');
    return null;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-pg-'));
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]): void => {
    const command = asRoot ? ['runuser', '-u', 'postgres', '--', file, ...args] : [file, ...args];
    execFileSync(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const user = 'mode';
  const password = 'mode-test-password';
  writeFileSync(path.join(dir, 'password'), `${password}\n`);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(path.join(dir, 'password'), uid, gid);
  }
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    user,
    `--pwfile=${path.join(dir, 'password')}`,
    '--auth-host=scram-sha-256',
    '--auth-local=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', settings, 'start']);
  const url = (database: string, credentials = { user, password }): string =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
  const sql = async (database: string, statement: string): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    user,
    password,
    url,
    sql,
    async createDatabase(name) {
      await sql('postgres', `CREATE DATABASE "${name}"`);
      return url(name);
    },
    stop() {
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
