import { engineContract } from '../engine-contract.js';
import { TfjsEngine } from './engine.js';

engineContract('tfjs-wasm', () => TfjsEngine.create('wasm'));
