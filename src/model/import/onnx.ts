/**
 * ONNX models (as PyTorch's torch.onnx.export writes them) read into Keras layers: a chain of Gemm
 * (or MatMul + Add), Conv, MaxPool, AveragePool, BatchNormalization, Flatten / Reshape to 2-D,
 * Dropout, Identity and the activations Relu, Sigmoid, Tanh, Elu, Softmax. NCHW becomes NHWC: conv
 * kernels are transposed and the first dense layer after flattening a [c, h, w] tensor gets its rows
 * reordered, so the model computes the same function on [h, w, c] inputs. Anything else is refused
 * with the node named.
 */
import { ModeError } from '../../core/errors.js';
import type { Activation } from '../../engine/index.js';
import {
  addActivation,
  flattenOrder,
  kernelToKeras,
  permuteRows,
  samePads,
  transpose2d,
  type ImportedLayer,
  type ImportedModel,
} from './imported.js';
import { modelProto, ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-schema.js';

interface Constant {
  readonly dims: number[];
  readonly values: Float64Array | Float32Array;
}

/** Decodes ONNX bytes, refusing what is not an ONNX model with one line. */
function decodeOnnx(bytes: Uint8Array, file: string): OnnxModel {
  const type = modelProto();
  let model: OnnxModel;
  try {
    model = type.toObject(type.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false, arrays: true }) as OnnxModel;
  } catch (error) {
    throw new ModeError('model', `${file}: not a readable ONNX model (${(error as Error).message}); the file is corrupt or truncated`);
  }
  const graph = model.graph;
  if (graph === undefined || (graph.node ?? []).length === 0 || (graph.output ?? []).length === 0) {
    throw new ModeError('model', `${file}: not a readable ONNX model (no graph with nodes and outputs); the file is corrupt or truncated`);
  }
  return model;
}

function tensorValues(t: OnnxTensor, file: string): Constant {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const where = `${file}: tensor '${t.name ?? ''}'`;
  if (t.dataLocation === 1) throw new ModeError('model', `${where} keeps its data in an external file, which is not supported`);
  let values: Float64Array | Float32Array;
  if (t.dataType === ONNX_FLOAT) {
    if (t.rawData !== undefined && t.rawData.length > 0) {
      if (t.rawData.length !== count * 4)
        throw new ModeError('model', `${where}: holds ${t.rawData.length} bytes, its shape needs ${count * 4}`);
      values = new Float32Array(count);
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    } else values = Float32Array.from(t.floatData ?? []);
  } else if (t.dataType === ONNX_INT64) {
    if (t.rawData !== undefined && t.rawData.length > 0) {
      if (t.rawData.length !== count * 8)
        throw new ModeError('model', `${where}: holds ${t.rawData.length} bytes, its shape needs ${count * 8}`);
      values = new Float64Array(count);
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      for (let i = 0; i < count; i++) values[i] = Number(view.getBigInt64(i * 8, true));
    } else values = Float64Array.from((t.int64Data ?? []).map(Number));
  } else {
    throw new ModeError('model', `${where}: data type ${t.dataType ?? 0} is not supported (float32 weights only)`);
  }
  if (values.length !== count) throw new ModeError('model', `${where}: holds ${values.length} values, its shape needs ${count}`);
  return { dims, values };
}

const ACTIVATION_OPS: Record<string, Activation> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Elu: 'elu', Softmax: 'softmax' };
const SUPPORTED =
  'Gemm, MatMul + Add, Conv, MaxPool, AveragePool, BatchNormalization, Flatten, Reshape, Dropout, Identity, Pad of zeros, Transpose of an NHWC input, Relu, Sigmoid, Tanh, Elu, Softmax';

/** Reads an ONNX model into Keras layers on channels-last inputs. */
export function importOnnx(bytes: Uint8Array, file: string): ImportedModel {
  const model = decodeOnnx(bytes, file);
  const graph = model.graph!;
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 13;
  const constants = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', tensorValues(t, file));
  const nodes = graph.node ?? [];
  nodes.forEach((node) => {
    if (node.opType === 'Constant') {
      const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (value === undefined)
        throw new ModeError('model', `${file}: node '${node.name ?? ''}' (Constant): only tensor constants are supported`);
      constants.set(node.output?.[0] ?? '', tensorValues(value, file));
    }
  });
  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ''));
  if (inputs.length !== 1 || (graph.output ?? []).length !== 1) {
    throw new ModeError(
      'model',
      `${file}: the graph has ${inputs.length} inputs and ${(graph.output ?? []).length} outputs; one of each is supported`,
    );
  }
  const input = inputs[0]!;
  const outputName = graph.output![0]!.name ?? '';
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : null));
  if (input.type?.tensorType?.elemType !== undefined && input.type.tensorType.elemType !== ONNX_FLOAT) {
    throw new ModeError('model', `${file}: input '${input.name ?? ''}' is not float32`);
  }
  if (!((dims.length === 4 || dims.length === 2) && dims.slice(1).every((d) => d !== null && d > 0))) {
    throw new ModeError(
      'model',
      `${file}: input '${input.name ?? ''}' has shape [${dims.map((d) => d ?? '?').join(', ')}]; ` +
        `supported: [N, C, H, W] or [N, features] with every dimension but N fixed`,
    );
  }
  const [c, h, w] = dims.length === 4 ? (dims.slice(1) as number[]) : [dims[1]!, 1, 1];
  let inputShape = dims.length === 4 ? [h!, w!, c!] : [c!];
  let layout: 'nchw' | 'nhwc' = 'nchw';

  const consumers = new Map<string, OnnxNode[]>();
  for (const node of nodes) {
    for (const name of node.input ?? []) if (!constants.has(name)) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  }
  const layers: ImportedLayer[] = [];
  // The current tensor's shape without batch, channels first: [c, h, w] or [features].
  let shape: number[] = dims.length === 4 ? [c!, h!, w!] : [c!];
  // Set after flattening a [c, h, w] tensor, until a dense layer has taken the flatten order in.
  let pending: Int32Array | null = null;
  let current = input.name ?? '';
  const seen = new Set<OnnxNode>();
  while (current !== outputName) {
    const next = consumers.get(current) ?? [];
    if (next.length !== 1) {
      throw new ModeError(
        'model',
        next.length === 0
          ? `${file}: tensor '${current}' is not used by any node and is not the graph's output`
          : `${file}: tensor '${current}' feeds ${next.length} nodes; only a chain of layers (a Sequential model) is supported`,
      );
    }
    const node = next[0]!;
    if (seen.has(node)) throw new ModeError('model', `${file}: the graph has a cycle at node '${node.name ?? ''}'`);
    seen.add(node);
    const op = node.opType ?? '';
    const name = node.name !== undefined && node.name !== '' ? node.name : `${op}_${nodes.indexOf(node)}`;
    const where = `${file}: node '${name}' (${op})`;
    const refuse = (why: string): never => {
      throw new ModeError('model', `${where}: ${why}`);
    };
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') refuse(`operator domain '${node.domain}' is not supported`);
    const attrs = new Map<string, OnnxAttribute>((node.attribute ?? []).map((a) => [a.name ?? '', a]));
    const int = (key: string, fallback: number): number => (attrs.has(key) ? Number(attrs.get(key)!.i ?? 0) : fallback);
    const float = (key: string, fallback: number): number => (attrs.has(key) ? Number(attrs.get(key)!.f ?? 0) : fallback);
    const ints = (key: string): number[] | null => (attrs.has(key) ? (attrs.get(key)!.ints ?? []).map(Number) : null);
    const constant = (index: number, what: string): Constant => {
      const value = constants.get(node.input?.[index] ?? '');
      if (value === undefined) return refuse(`its ${what} must be a constant (an initializer)`);
      return value;
    };
    const out = node.output?.[0] ?? '';
    const source = `node '${name}' (${op})`;
    const spatial = (): [number, number, number] => {
      if (shape.length !== 3) refuse(`needs a [N, C, H, W] input, got [N, ${shape.join(', ')}]`);
      return shape as [number, number, number];
    };
    /** Kernel, stride and Keras padding of a conv or pooling window; refuses what Keras cannot do alike. */
    const window = (k: number[], what: string): { kernel: number; stride: number; padding: 'same' | 'valid' } => {
      const [, ih, iw] = spatial();
      if (k.length !== 2 || k[0] !== k[1]) refuse(`${what} [${k.join(', ')}] is not supported (square windows only)`);
      const strides = ints('strides') ?? [1, 1];
      if (strides.length !== 2 || strides[0] !== strides[1])
        refuse(`strides [${strides.join(', ')}] are not supported (equal strides only)`);
      const dilations = ints('dilations') ?? [1, 1];
      if (dilations.some((d) => d !== 1)) refuse(`dilations [${dilations.join(', ')}] are not supported`);
      const kernel = k[0]!;
      const stride = strides[0]!;
      const autoPad = attrs.has('auto_pad') ? new TextDecoder().decode(attrs.get('auto_pad')!.s ?? new Uint8Array()) : 'NOTSET';
      const same = [...samePads(ih, kernel, stride), ...samePads(iw, kernel, stride)];
      let pads: number[];
      if (autoPad === 'VALID') pads = [0, 0, 0, 0];
      else if (autoPad === 'SAME_UPPER') pads = [same[0]!, same[2]!, same[1]!, same[3]!];
      else if (autoPad === 'NOTSET' || autoPad === '') pads = ints('pads') ?? [0, 0, 0, 0];
      else return refuse(`auto_pad ${autoPad} is not supported`);
      // ONNX pads: [top, left, bottom, right].
      let padding: 'same' | 'valid';
      if (pads.every((p) => p === 0)) padding = 'valid';
      else if (pads[0] === same[0] && pads[2] === same[1] && pads[1] === same[2] && pads[3] === same[3]) padding = 'same';
      else {
        return refuse(
          `pads [${pads.join(', ')}] are not supported: only none (Keras 'valid') or Keras 'same' ` +
            `([${same[0]}, ${same[2]}, ${same[1]}, ${same[3]}] for this input) can be imported`,
        );
      }
      if (int('ceil_mode', 0) !== 0) {
        const extent = (size: number, before: number, after: number): [number, number] => [
          Math.floor((size + before + after - kernel) / stride) + 1,
          Math.ceil((size + before + after - kernel) / stride) + 1,
        ];
        const [fh, ch] = extent(ih, pads[0]!, pads[2]!);
        const [fw, cw] = extent(iw, pads[1]!, pads[3]!);
        if (fh !== ch || fw !== cw) refuse('ceil_mode 1 changes the output size here, which is not supported');
      }
      return { kernel, stride, padding };
    };
    const outSize = (size: number, p: { kernel: number; stride: number; padding: 'same' | 'valid' }): number =>
      p.padding === 'same' ? Math.ceil(size / p.stride) : Math.floor((size - p.kernel) / p.stride) + 1;

    switch (op) {
      case 'Conv': {
        const [ic, ih, iw] = spatial();
        const weight = constant(1, 'weight');
        const [oc, wc, kh, kw] = weight.dims as [number, number, number, number];
        const group = int('group', 1);
        if (group !== 1) refuse(`group ${group} is not supported (grouped convolutions)`);
        if (weight.dims.length !== 4 || wc !== ic)
          refuse(`weight of shape [${weight.dims.join(', ')}] does not fit an input of ${ic} channels`);
        const p = window(ints('kernel_shape') ?? [kh, kw], 'kernel_shape');
        const weights = [{ values: kernelToKeras(Float32Array.from(weight.values), oc, ic, kh, kw), shape: [kh, kw, ic, oc] }];
        if ((node.input ?? []).length > 2 && node.input![2] !== '')
          weights.push({ values: Float32Array.from(constant(2, 'bias').values), shape: [oc] });
        layers.push({ type: 'conv2d', source, units: oc, ...p, weights });
        shape = [oc, outSize(ih, p), outSize(iw, p)];
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const [ic, ih, iw] = spatial();
        if ((node.output ?? []).length > 1 && node.output![1] !== '') refuse('the indices output is not supported');
        if (int('storage_order', 0) !== 0) refuse('storage_order 1 is not supported');
        const k = ints('kernel_shape') ?? refuse('needs kernel_shape');
        const p = window(k, 'kernel_shape');
        if (op === 'AveragePool' && p.padding === 'same' && int('count_include_pad', 0) !== 0) {
          refuse("count_include_pad 1 with padding is not supported (Keras 'same' averages the values inside the input only)");
        }
        layers.push({ type: op === 'MaxPool' ? 'maxPool2d' : 'averagePooling2d', source, ...p, weights: [] });
        shape = [ic, outSize(ih, p), outSize(iw, p)];
        break;
      }
      case 'BatchNormalization': {
        if (int('training_mode', 0) !== 0) refuse('training_mode 1 is not supported (export the model in eval mode)');
        const channels = shape[0]!;
        const params = ['scale', 'bias', 'mean', 'variance'].map((what, i) => {
          const v = constant(i + 1, what);
          if (v.values.length !== channels) refuse(`${what} holds ${v.values.length} values for ${channels} channels`);
          const values = Float32Array.from(v.values);
          return { values: pending !== null && shape.length === 1 ? permuteRows(values, 1, pending) : values, shape: [channels] };
        });
        layers.push({
          type: 'batchNormalization',
          source,
          epsilon: float('epsilon', 1e-5),
          momentum: float('momentum', 0.9),
          weights: params,
        });
        break;
      }
      case 'Flatten':
      case 'Reshape': {
        const size = shape.reduce((a, b) => a * b, 1);
        if (op === 'Flatten' && int('axis', 1) !== 1)
          refuse(`axis ${int('axis', 1)} is not supported (only flattening all but the batch axis)`);
        if (op === 'Reshape') {
          const target = Array.from(constant(1, 'shape').values);
          const ok = target.length === 2 && (target[1] === -1 || target[1] === size) && [0, -1, 1].includes(target[0]!);
          if (!ok) refuse(`reshaping to [${target.join(', ')}] is not supported (only to [N, ${size}] or [N, -1])`);
        }
        if (shape.length === 3) {
          const [fc, fh, fw] = shape as [number, number, number];
          if (fc > 1 && fh * fw > 1) pending = flattenOrder(fc, fh, fw);
          layers.push({ type: 'flatten', source, weights: [] });
        }
        shape = [size];
        break;
      }
      case 'Gemm': {
        if (shape.length !== 1) refuse(`needs a [N, features] input, got [N, ${shape.join(', ')}] (flatten first)`);
        if (int('transA', 0) !== 0) refuse('transA 1 is not supported');
        const b = constant(1, 'weight B');
        const transB = int('transB', 0) !== 0;
        const [rows, cols] = b.dims as [number, number];
        const [inF, units] = transB ? [cols, rows] : [rows, cols];
        if (b.dims.length !== 2 || inF !== shape[0])
          refuse(`weight of shape [${b.dims.join(', ')}] does not fit ${shape[0]} input features`);
        const alpha = float('alpha', 1);
        let kernel: Float32Array = transB ? transpose2d(Float32Array.from(b.values), rows, cols) : Float32Array.from(b.values);
        if (alpha !== 1) kernel = kernel.map((v) => v * alpha);
        if (pending !== null) kernel = permuteRows(kernel, units, pending);
        pending = null;
        const weights = [{ values: kernel, shape: [inF, units] }];
        if ((node.input ?? []).length > 2 && node.input![2] !== '') {
          const bias = constant(2, 'bias C');
          if (bias.values.length !== units)
            refuse(`bias C holds ${bias.values.length} values for ${units} units (broadcast biases are not supported)`);
          const beta = float('beta', 1);
          weights.push({ values: Float32Array.from(bias.values, (v) => v * beta), shape: [units] });
        }
        layers.push({ type: 'dense', source, units, weights });
        shape = [units];
        break;
      }
      case 'MatMul': {
        if (shape.length !== 1) refuse(`needs a [N, features] input, got [N, ${shape.join(', ')}] (flatten first)`);
        if (node.input?.[0] !== current) refuse('only input x constant weight is supported');
        const b = constant(1, 'weight');
        const [inF, units] = b.dims as [number, number];
        if (b.dims.length !== 2 || inF !== shape[0])
          refuse(`weight of shape [${b.dims.join(', ')}] does not fit ${shape[0]} input features`);
        let kernel: Float32Array = Float32Array.from(b.values);
        if (pending !== null) kernel = permuteRows(kernel, units, pending);
        pending = null;
        layers.push({ type: 'dense', source, units, weights: [{ values: kernel, shape: [inF, units] }] });
        shape = [units];
        break;
      }
      case 'Add': {
        const last = layers[layers.length - 1];
        const other = (node.input ?? []).find((i) => i !== current) ?? '';
        const bias = constants.get(other);
        const units = shape[shape.length - 1]!;
        if (
          last === undefined ||
          last.type !== 'dense' ||
          last.weights.length !== 1 ||
          (last.activation ?? 'linear') !== 'linear' ||
          bias === undefined
        ) {
          refuse('only adding a constant bias right after a MatMul is supported');
        }
        if (bias!.values.length !== units) refuse(`the bias holds ${bias!.values.length} values for ${units} units`);
        last!.weights.push({ values: Float32Array.from(bias!.values), shape: [units] });
        break;
      }
      case 'Dropout': {
        const ratio = attrs.has('ratio') ? float('ratio', 0.5) : (constants.get(node.input?.[1] ?? '')?.values[0] ?? 0.5);
        layers.push({ type: 'dropout', source, rate: ratio, weights: [] });
        break;
      }
      case 'Identity':
        break;
      case 'Transpose': {
        // An NHWC model turned NCHW at its input (as `mode export` writes our models): the input is [N, H, W, C].
        const perm = ints('perm') ?? [];
        if (!(layers.length === 0 && current === input.name && dims.length === 4 && perm.join(',') === '0,3,1,2')) {
          refuse('only a Transpose of an [N, H, W, C] input to NCHW (perm [0, 3, 1, 2]) as the first node is supported');
        }
        const [dh, dw, dc] = dims.slice(1) as [number, number, number];
        inputShape = [dh, dw, dc];
        shape = [dc, dh, dw];
        layout = 'nhwc';
        break;
      }
      case 'Pad': {
        // torch.onnx.export writes a Pad of zeros before some pooling layers: a no-op, taken as Identity.
        const pads = ints('pads') ?? Array.from(constant(1, 'pads').values);
        if (pads.some((p) => p !== 0))
          refuse(`pads [${pads.join(', ')}] are not supported (only padding by the Conv or pooling node itself)`);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Elu':
      case 'Softmax': {
        if (op === 'Elu' && float('alpha', 1) !== 1) refuse(`alpha ${float('alpha', 1)} is not supported (1 only)`);
        if (op === 'Softmax') {
          const axis = int('axis', opset >= 13 ? -1 : 1);
          if (shape.length !== 1 || !(axis === -1 || axis === 1))
            refuse(`softmax over axis ${axis} of [N, ${shape.join(', ')}] is not supported (the class axis of [N, classes] only)`);
        }
        addActivation(layers, ACTIVATION_OPS[op]!, source);
        break;
      }
      default:
        refuse(`op ${op} is not supported; supported: ${SUPPORTED}`);
    }
    if (out === '') refuse('has no output');
    current = out;
  }
  if (layers.length === 0) throw new ModeError('model', `${file}: the graph has no layers`);
  return {
    inputShape,
    layers,
    record: { layout, input: { name: input.name ?? '', shape: dims }, output: { name: outputName } },
  };
}
