/**
 * Writes a model as ONNX (opset 13), ending in Softmax so its output is class probabilities. A model
 * imported from NCHW ONNX goes back to its own input layout and input and output names; our own
 * (NHWC) models take [N, H, W, C] inputs, transposed to NCHW at the start. Inside, the graph is
 * NCHW: conv kernels are transposed back and the first dense layer after a flatten of [h, w, c] gets
 * its rows in the channels-first order.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModeError } from '../../core/errors.js';
import { readModelFolder, weightsByName } from '../../engine/keras/model-folder.js';
import { layersFromTopology, type KerasLayer } from '../../engine/keras/topology.js';
import { flattenOrder, kernelToOnnx, samePads, unpermuteRows, type ImportRecord } from './imported.js';
import { resolveModelSource } from './model-source.js';
import { ATTR, modelProto, ONNX_FLOAT } from './onnx-schema.js';

const OPSET = 13;

interface Node {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: Record<string, unknown>[];
}

const intAttr = (name: string, i: number): Record<string, unknown> => ({ name, type: ATTR.INT, i });
const intsAttr = (name: string, ints: number[]): Record<string, unknown> => ({ name, type: ATTR.INTS, ints });
const floatAttr = (name: string, f: number): Record<string, unknown> => ({ name, type: ATTR.FLOAT, f });

function floatTensor(name: string, dims: number[], values: Float32Array): Record<string, unknown> {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: ONNX_FLOAT, rawData: bytes };
}

const ONNX_ACTIVATIONS: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', elu: 'Elu', softmax: 'Softmax' };

/** What exportOnnx wrote. */
export interface OnnxExport {
  readonly file: string;
  readonly input: { name: string; shape: (number | null)[] };
  readonly output: { name: string };
  /** nchw: the source's own layout (an imported NCHW model); nhwc: our layout, transposed inside. */
  readonly layout: 'nchw' | 'nhwc';
  readonly nodes: number;
}

/**
 * Writes the model of a model folder (or of a model file, imported first) to `file` as ONNX. The
 * file is written whole or not at all. The layout and names follow the folder's import.json, or
 * `options.source` when given: e.g. a repaired model folder (which has no import.json) written back
 * like the ONNX file it was repaired from (`source` of LoadedModelFolder or ModelRun).
 */
export async function exportOnnx(model: string, file: string, options: { source?: ImportRecord | null } = {}): Promise<OnnxExport> {
  const resolved = await resolveModelSource(model);
  const dir = resolved.dir;
  const source = options.source !== undefined ? options.source : resolved.source;
  const contents = await readModelFolder(dir);
  const keras = layersFromTopology(contents.modelTopology, contents.jsonPath);
  const weights = weightsByName(contents);
  const bytes = buildOnnx(keras.inputShape, keras.layers, weights, source, contents.jsonPath);
  const tmp = `${file}.partial-${process.pid}`;
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  try {
    await fs.writeFile(tmp, bytes.data);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw new ModeError('io', `${file}: cannot be written (${(error as Error).message})`);
  }
  return { file, ...bytes.info };
}

function buildOnnx(
  inputShape: readonly number[],
  layers: readonly KerasLayer[],
  weights: Map<string, Float32Array>,
  source: ImportRecord | null,
  where: string,
): { data: Uint8Array; info: Omit<OnnxExport, 'file'> } {
  // An ONNX source keeps its names and input shape; NCHW ones their layout too.
  const onnxSource = source !== null && source.format === 'onnx' ? source : null;
  const nchw = onnxSource !== null && onnxSource.layout === 'nchw';
  const spatialInput = inputShape.length === 3;
  const [h0, w0, c0] = spatialInput ? (inputShape as [number, number, number]) : [1, 1, inputShape[0]!];
  const inputName = onnxSource?.input.name ?? 'input';
  const outputName = onnxSource?.output.name ?? 'probabilities';
  const inputDims: (number | null)[] = onnxSource?.input.shape ?? (spatialInput ? [null, h0, w0, c0] : [null, inputShape[0]!]);
  const nodes: Node[] = [];
  const initializers: Record<string, unknown>[] = [];
  let current = inputName;
  let counter = 0;
  const add = (opType: string, inputs: string[], attribute: Record<string, unknown>[] = []): string => {
    const name = `${opType}_${counter++}`;
    const out = `${name}_out`;
    nodes.push({ input: inputs, output: [out], name, opType, attribute });
    current = out;
    return out;
  };
  const weight = (layer: KerasLayer, w: string): Float32Array => {
    const values = weights.get(`${layer.name}/${w}`);
    if (values === undefined) throw new ModeError('model', `${where}: weight ${layer.name}/${w} is missing`);
    return values;
  };
  const constant = (name: string, dims: number[], values: Float32Array): string => {
    initializers.push(floatTensor(name, dims, values));
    return name;
  };
  if (spatialInput && !nchw) add('Transpose', [current], [intsAttr('perm', [0, 3, 1, 2])]);
  // Set after flattening [h, w, c] with both parts > 1: the channels-last order of the flat features.
  let pending: Int32Array | null = null;
  const activation = (layer: KerasLayer): void => {
    const act = layer.activation ?? 'linear';
    if (act === 'linear') return;
    const op = ONNX_ACTIVATIONS[act];
    if (op === undefined) throw new ModeError('model', `${where}: layer ${layer.name}: activation ${act} has no ONNX export`);
    add(op, [current], op === 'Softmax' ? [intAttr('axis', 1)] : op === 'Elu' ? [floatAttr('alpha', 1)] : []);
  };
  const window = (layer: KerasLayer): Record<string, unknown>[] => {
    const [ih, iw] = layer.inShape as [number, number, number];
    const [top, bottom] = layer.padding === 'same' ? samePads(ih, layer.kernel, layer.stride) : [0, 0];
    const [left, right] = layer.padding === 'same' ? samePads(iw, layer.kernel, layer.stride) : [0, 0];
    return [
      intsAttr('kernel_shape', [layer.kernel, layer.kernel]),
      intsAttr('strides', [layer.stride, layer.stride]),
      intsAttr('pads', [top, left, bottom, right]),
    ];
  };
  for (const layer of layers) {
    const unsupported = (why: string): never => {
      throw new ModeError('model', `${where}: layer ${layer.name} (${layer.type}): ${why}`);
    };
    switch (layer.type) {
      case 'conv2d': {
        const [kh, kw, ic, oc] = layer.weights[0]!.shape as [number, number, number, number];
        const w = constant(`${layer.name}.weight`, [oc, ic, kh, kw], kernelToOnnx(weight(layer, 'kernel'), kh, kw, ic, oc));
        const inputs = [current, w, ...(layer.useBias ? [constant(`${layer.name}.bias`, [oc], weight(layer, 'bias'))] : [])];
        add('Conv', inputs, [...window(layer), intAttr('group', 1), intsAttr('dilations', [1, 1])]);
        activation(layer);
        break;
      }
      case 'maxPool2d':
        add('MaxPool', [current], window(layer));
        break;
      case 'averagePooling2d':
        add('AveragePool', [current], [...window(layer), intAttr('count_include_pad', 0)]);
        break;
      case 'flatten': {
        if (layer.inShape.length === 3) {
          const [fh, fw, fc] = layer.inShape as [number, number, number];
          if (fc > 1 && fh * fw > 1) pending = flattenOrder(fc, fh, fw);
        }
        add('Flatten', [current], [intAttr('axis', 1)]);
        break;
      }
      case 'dense': {
        if (layer.inShape.length !== 1) unsupported(`a dense layer on [${layer.inShape.join(', ')}] has no ONNX export (flatten first)`);
        const [inF, units] = layer.weights[0]!.shape as [number, number];
        let kernel = weight(layer, 'kernel');
        if (pending !== null) kernel = unpermuteRows(kernel, units, pending);
        pending = null;
        const inputs = [current, constant(`${layer.name}.kernel`, [inF, units], kernel)];
        if (layer.useBias) inputs.push(constant(`${layer.name}.bias`, [units], weight(layer, 'bias')));
        add('Gemm', inputs, [floatAttr('alpha', 1), floatAttr('beta', 1), intAttr('transB', 0)]);
        activation(layer);
        break;
      }
      case 'batchNormalization': {
        const channels = layer.outShape[layer.outShape.length - 1]!;
        const param = (w: string): string => {
          const values = weight(layer, w);
          return constant(
            `${layer.name}.${w}`,
            [channels],
            pending !== null && layer.inShape.length === 1 ? unpermuteRows(values, 1, pending) : values,
          );
        };
        add(
          'BatchNormalization',
          [current, param('gamma'), param('beta'), param('moving_mean'), param('moving_variance')],
          [floatAttr('epsilon', layer.epsilon), floatAttr('momentum', layer.momentum)],
        );
        break;
      }
      case 'dropout':
        break;
      case 'activation':
        if (layer.activation === 'softmax' && layer.inShape.length !== 1)
          unsupported('softmax on a spatial tensor has no ONNX export here');
        activation(layer);
        break;
    }
  }
  if (nodes.length === 0) add('Identity', [current]);
  nodes[nodes.length - 1]!.output = [outputName];
  const last = layers[layers.length - 1]!;
  const classes = last.outShape[last.outShape.length - 1]!;
  const valueInfo = (name: string, dims: (number | null)[]): Record<string, unknown> => ({
    name,
    type: {
      tensorType: {
        elemType: ONNX_FLOAT,
        shape: { dim: dims.map((d, i) => (d === null ? { dimParam: i === 0 ? 'batch' : `d${i}` } : { dimValue: d })) },
      },
    },
  });
  const proto = modelProto();
  const message = proto.fromObject({
    irVersion: 7,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'mode',
    graph: {
      name: 'mode',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, inputDims)],
      output: [valueInfo(outputName, [inputDims[0] ?? null, classes])],
    },
  });
  return {
    data: proto.encode(message).finish(),
    info: {
      input: { name: inputName, shape: inputDims },
      output: { name: outputName },
      layout: nchw ? 'nchw' : 'nhwc',
      nodes: nodes.length,
    },
  };
}
