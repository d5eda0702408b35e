/**
 * `mode serve`: the report of `mode report`, served live on 127.0.0.1 (by default). Every page
 * request rebuilds the page from the source (a store is re-read, so a running sweep's new cells
 * show); the page polls /state and reloads itself when the source's version changes.
 */
import type { Command } from 'commander';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ModeError } from '../../core/errors.js';
import type { ProgressCallback } from '../../core/progress.js';
import type { Engine } from '../../engine/index.js';
import { chartLibrary, reportHtml } from '../../report/html/index.js';
import type { Galleries } from '../../select/galleries.js';
import { intOption, startEngine, type GlobalOptions } from '../common.js';
import { progressReporter } from '../progress.js';
import { detectSource, loadReportContent, sourceVersion, type ReportSource } from '../report-source.js';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
/** How often an open page asks whether the source changed, ms. */
const POLL_INTERVAL_MS = 2000;
const STATE_PATH = '/state';

interface ServeFlags {
  from: string;
  port: number;
  host: string;
  galleries: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the report live over HTTP (127.0.0.1 by default), updating while a sweep writes the store')
    .requiredOption(
      '--from <path>',
      'a folder written by `mode demo`, `mode analyze`, `mode repair` or `mode select`, or the store of `mode experiment` (a .sqlite file or a postgres:// URL)',
    )
    .option('--port <n>', 'TCP port (0: any free port)', intOption('--port', 0, 65535), DEFAULT_PORT)
    .option('--host <address>', 'address to listen on', DEFAULT_HOST)
    .option('--no-galleries', 'leave out the galleries of similar pool inputs')
    .action(async (flags: ServeFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const progress = progressReporter({ quiet: globals.quiet === true });
      let engine: Promise<Engine> | null = null;
      const server = await serveReport(flags.from, {
        port: flags.port,
        host: flags.host,
        galleries: flags.galleries,
        onProgress: progress.callback,
        engine: () => (engine ??= startEngine(globals)),
        onError: (message) => process.stderr.write(`mode serve: ${message}\n`),
      });
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      process.stdout.write(`mode serve: http://${host}:${port}/ (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

interface ServeOptions {
  port: number;
  host: string;
  galleries: boolean;
  engine: () => Promise<Engine>;
  onProgress: ProgressCallback;
  /** A request that failed (the source went bad while serving): one line. */
  onError: (message: string) => void;
}

/**
 * Checks the source once (a source that is not ours fails here, before listening; an empty store of
 * ours is served as a page waiting for its first cell), builds the first page, then listens.
 */
async function serveReport(from: string, options: ServeOptions): Promise<Server> {
  const source: ReportSource = detectSource(from);
  const galleryCache = new Map<string, Galleries>();
  const page = async (version: string): Promise<string> => {
    const content = await loadReportContent(source, {
      galleries: options.galleries,
      allowEmptyStore: true,
      engine: options.engine,
      onProgress: options.onProgress,
      galleryCache,
    });
    return reportHtml(content, { chartLibrary: chartLibrary(), live: { stateUrl: STATE_PATH, version, intervalMs: POLL_INTERVAL_MS } });
  };
  await page(await sourceVersion(source));
  const send = (response: ServerResponse, status: number, type: string, body: string): void => {
    // connection: close, so no client reuses a kept-alive socket the server has timed out (a page
    // polls every few seconds; a connection is cheap on loopback).
    response.writeHead(status, {
      'content-type': `${type}; charset=utf-8`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'close',
    });
    response.end(body);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'only GET\n');
    if (url.pathname === STATE_PATH)
      return send(response, 200, 'application/json', JSON.stringify({ version: await sourceVersion(source) }));
    if (url.pathname === '/' || url.pathname === '/index.html')
      return send(response, 200, 'text/html', await page(await sourceVersion(source)));
    return send(response, 404, 'text/plain', `no page at ${url.pathname}; the report is at /\n`);
  };
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message =
        error instanceof ModeError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
      options.onError(message);
      if (!response.headersSent) send(response, 500, 'text/plain', `${message}\n`);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ModeError(
          'io',
          `cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}); choose another --port or --host`,
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
