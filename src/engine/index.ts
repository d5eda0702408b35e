/** Engine selection: the one door to compute. Callers get an Engine and never see tfjs. */
import { oneOf } from '../core/errors.js';
import type { Engine } from './types.js';

export const ENGINE_NAMES = ['wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface EngineOptions {
  /** Intra-op threads for the wasm backend (1 = default; 2 is optional and experimental). */
  readonly threads?: number;
}

export async function createEngine(name: string = 'wasm', options: EngineOptions = {}): Promise<Engine> {
  const engine = oneOf('engine', name, ENGINE_NAMES);
  const { TfjsEngine } = await import('./tfjs/engine.js');
  return TfjsEngine.create(engine, options.threads ?? 1);
}

export type * from './types.js';
export { ACTIVATIONS } from './types.js';
