/** Engine selection: the one door to compute. Callers get an Engine and never see tfjs or libtorch. */
import { oneOf } from '../core/errors.js';
import type { Engine } from './types.js';

/**
 * `auto`: the torch engine where its addon is built and loads, else wasm. `torch`: libtorch
 * (native/, fails with how to install it when missing). `wasm`: tfjs on WebAssembly. `cpu`: tfjs'
 * pure-JS reference backend (slow; for checking kernels).
 */
export const ENGINE_NAMES = ['auto', 'torch', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
/** The engine of every command unless --engine says otherwise: the fast one where it is built, else the portable one. */
export const DEFAULT_ENGINE: EngineName = 'auto';

export interface EngineOptions {
  /**
   * Intra-op threads of the torch engine (ATen's; default 2). The wasm engine runs one thread on Node:
   * tfjs-backend-wasm 4.22 turns its threaded build off there (tfjs issue 3830), and forcing it on
   * fails to initialise, so this option does not apply to it (docs/studies/speed.md).
   */
  readonly threads?: number;
}

/** Null when the torch engine can run here, else why not (one line). */
export async function torchUnavailable(): Promise<string | null> {
  const { torchUnavailableReason } = await import('./torch/native.js');
  return torchUnavailableReason();
}

/** The engine `auto` resolves to on this machine. */
export async function resolveEngineName(name: string): Promise<Exclude<EngineName, 'auto'>> {
  const engine = oneOf('engine', name, ENGINE_NAMES);
  if (engine !== 'auto') return engine;
  return (await torchUnavailable()) === null ? 'torch' : 'wasm';
}

export async function createEngine(name: string = DEFAULT_ENGINE, options: EngineOptions = {}): Promise<Engine> {
  const engine = await resolveEngineName(name);
  if (engine === 'torch') {
    const { TorchEngine } = await import('./torch/engine.js');
    return options.threads !== undefined ? TorchEngine.create(options.threads) : TorchEngine.create();
  }
  const { TfjsEngine } = await import('./tfjs/engine.js');
  return TfjsEngine.create(engine);
}

export type * from './types.js';
export { ACTIVATIONS } from './types.js';
