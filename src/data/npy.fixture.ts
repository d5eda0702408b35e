/** Writes .npy and .npz files by hand, per the NumPy format spec (format version 1.0), for tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';

type Typed = Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array;

const DESCR = new Map<string, string>([
  ['Uint8Array', '|u1'],
  ['Int32Array', '<i4'],
  ['Float32Array', '<f4'],
  ['Float64Array', '<f8'],
  ['BigInt64Array', '<i8'],
]);

/** The bytes of a .npy file: magic, version 1.0, a header padded to 64 bytes, then the data. */
export function npyBytes(data: Typed, shape: readonly number[], options: { fortran?: boolean } = {}): Uint8Array {
  const descr = DESCR.get(data.constructor.name) ?? '|u1';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': ${options.fortran === true ? 'True' : 'False'}, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function writeNpy(file: string, data: Typed, shape: readonly number[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, npyBytes(data, shape));
}

/** An .npz: each array as `<name>.npy`, deflated or stored (level 0) as numpy's savez_compressed / savez do. */
export function writeNpz(file: string, arrays: Record<string, [Typed, readonly number[]]>, deflate = true): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const entries = Object.fromEntries(Object.entries(arrays).map(([name, [data, shape]]) => [`${name}.npy`, npyBytes(data, shape)]));
  writeFileSync(file, zipSync(entries, { level: deflate ? 6 : 0 }));
}
