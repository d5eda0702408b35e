/** The user's cache folder for mode: `$MODE_CACHE`, else `$XDG_CACHE_HOME/mode`, else `~/.cache/mode`. */
import os from 'node:os';
import path from 'node:path';

export function modeCacheFolder(): string {
  return process.env.MODE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mode');
}
