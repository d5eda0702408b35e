#!/usr/bin/python3
"""Writes the model-import fixtures of src/model/import/fixtures/ with real exporters.

Small seeded PyTorch models, exported by torch.onnx.export (opset 13), and the same weights written
as Keras files by h5py and zipfile: `.keras` (Keras 3: config.json, metadata.json, model.weights.h5
with `layers/<name>/vars/<i>`) and legacy `.h5` (Keras 2: the `model_config` attribute and
`model_weights/<layer>/<layer>/<weight>:0`). Next to each model, `<name>.io.json` holds seeded inputs
(NCHW for ONNX, NHWC for Keras, flattened) and torch's softmax probabilities for them.

Run: /usr/bin/python3 scripts/make-model-fixtures.py   (needs python3-torch and python3-h5py:
scripts/install-bench-deps.sh installs both). The output is deterministic for a given torch.
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'model', 'import', 'fixtures')
SAMPLES = 6


def mlp():
    """An MLP on [N, 1, 8, 8] ending in logits (3 classes); dropout drops out of the export."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))


def cnn3():
    """A CNN on [N, 3, 8, 8]: 'same' and 'valid' convs, max pool, batch norm, flatten of 6x2x2, logits."""
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=0),
        nn.ReLU(),
        nn.BatchNorm2d(6),
        nn.Flatten(),
        nn.Linear(24, 8),
        nn.ReLU(),
        nn.Linear(8, 3),
    )


def cnn1():
    """A CNN on [N, 1, 8, 8] with tanh, average pooling and its own softmax at the end."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 3),
        nn.Softmax(dim=1),
    )


class MatMulNet(nn.Module):
    """Reshape to [N, 64], x @ W + b (MatMul + Add in ONNX), sigmoid, a Linear, and Elu at the end (no softmax)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(64, 12) * 0.3)
        self.b = nn.Parameter(torch.randn(12) * 0.1)
        self.out = nn.Linear(12, 3)

    def forward(self, x):
        x = x.reshape(-1, 64)
        x = torch.sigmoid(x @ self.w + self.b)
        return nn.functional.elu(self.out(x))


def seeded(model, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            # Moving statistics and affine parameters away from their defaults, so they matter.
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def probabilities(model, x):
    with torch.no_grad():
        y = model(x)
        if not (isinstance(model, nn.Sequential) and isinstance(model[-1], nn.Softmax)):
            y = torch.softmax(y, dim=1)
    return y


def export_onnx(model, shape, name, seed):
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.rand((SAMPLES, *shape), generator=gen)
    path = os.path.join(OUT, f'{name}.onnx')
    torch.onnx.export(
        model,
        torch.zeros((1, *shape)),
        path,
        opset_version=13,
        input_names=['input'],
        output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    return x


def write_io(name, x, probs, layout):
    with open(os.path.join(OUT, f'{name}.io.json'), 'w') as f:
        json.dump(
            {
                'layout': layout,
                'shape': list(x.shape[1:]),
                'count': x.shape[0],
                'x': [round(float(v), 7) for v in x.reshape(-1)],
                'probabilities': [float(v) for v in probs.reshape(-1)],
            },
            f,
        )


# ----- Keras layouts -----


def keras_layers(model, in_shape):
    """The torch Sequential as Keras layers: (class, config, weights in Keras layout), activations folded."""
    c, h, w = in_shape
    layers = []
    shape = (c, h, w)
    pending_flatten = None  # (C, H, W) of the last flatten of a spatial tensor, until the next dense
    counts = {}

    def name_of(kind):
        counts[kind] = counts.get(kind, 0) + 1
        return kind if counts[kind] == 1 else f'{kind}_{counts[kind] - 1}'

    for m in model:
        if isinstance(m, nn.Conv2d):
            pad = 'same' if m.padding == (1, 1) else 'valid'
            kernel = m.weight.detach().numpy().transpose(2, 3, 1, 0)
            layers.append(['Conv2D', {'name': name_of('conv2d'), 'filters': m.out_channels, 'kernel_size': [3, 3],
                                      'strides': [1, 1], 'padding': pad, 'activation': 'linear', 'use_bias': True},
                           [kernel, m.bias.detach().numpy()]])
            k = m.kernel_size[0]
            shape = (m.out_channels, shape[1] - (0 if pad == 'same' else k - 1), shape[2] - (0 if pad == 'same' else k - 1))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            cls = 'MaxPooling2D' if isinstance(m, nn.MaxPool2d) else 'AveragePooling2D'
            layers.append([cls, {'name': name_of('max_pooling2d' if cls == 'MaxPooling2D' else 'average_pooling2d'),
                                 'pool_size': [2, 2], 'strides': [2, 2], 'padding': 'valid'}, []])
            shape = (shape[0], shape[1] // 2, shape[2] // 2)
        elif isinstance(m, nn.BatchNorm2d):
            layers.append(['BatchNormalization', {'name': name_of('batch_normalization'), 'axis': -1, 'momentum': 0.9,
                                                  'epsilon': m.eps, 'center': True, 'scale': True},
                           [m.weight.detach().numpy(), m.bias.detach().numpy(), m.running_mean.numpy(), m.running_var.numpy()]])
        elif isinstance(m, nn.Flatten):
            layers.append(['Flatten', {'name': name_of('flatten')}, []])
            pending_flatten = shape
            shape = (shape[0] * shape[1] * shape[2],)
        elif isinstance(m, nn.Linear):
            kernel = m.weight.detach().numpy().T  # [in, out], rows in torch's (c, h, w) order
            if pending_flatten is not None:
                fc, fh, fw = pending_flatten
                # Keras flattens (h, w, c): its row h*W*C + w*C + c is torch's row c*H*W + h*W + w.
                order = np.arange(fc * fh * fw).reshape(fc, fh, fw).transpose(1, 2, 0).reshape(-1)
                kernel = kernel[order]
                pending_flatten = None
            layers.append(['Dense', {'name': name_of('dense'), 'units': m.out_features, 'activation': 'linear', 'use_bias': True},
                           [kernel, m.bias.detach().numpy()]])
            shape = (m.out_features,)
        elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Softmax)):
            act = {nn.ReLU: 'relu', nn.Tanh: 'tanh', nn.Softmax: 'softmax'}[type(m)]
            assert layers[-1][0] in ('Conv2D', 'Dense') and layers[-1][1]['activation'] == 'linear'
            layers[-1][1]['activation'] = act
        elif isinstance(m, nn.Dropout):
            layers.append(['Dropout', {'name': name_of('dropout'), 'rate': m.p}, []])
        else:
            raise ValueError(f'no Keras layer for {m}')
    return layers


def keras3_config(layers, input_shape):
    dtype = {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}
    entries = [{'module': 'keras.layers', 'class_name': 'InputLayer',
                'config': {'batch_shape': [None, *input_shape], 'dtype': 'float32', 'sparse': False, 'name': 'input_layer'},
                'registered_name': None}]
    for cls, cfg, _ in layers:
        full = {'name': cfg['name'], 'trainable': True, 'dtype': dtype, **{k: v for k, v in cfg.items() if k != 'name'}}
        if cls == 'Conv2D':
            full.update({'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
                         'kernel_initializer': {'module': 'keras.initializers', 'class_name': 'GlorotUniform',
                                                'config': {'seed': None}, 'registered_name': None},
                         'bias_initializer': {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {},
                                              'registered_name': None},
                         'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
                         'kernel_constraint': None, 'bias_constraint': None})
        if cls in ('MaxPooling2D', 'AveragePooling2D'):
            full['data_format'] = 'channels_last'
        if cls == 'Flatten':
            full['data_format'] = 'channels_last'
        entries.append({'module': 'keras.layers', 'class_name': cls, 'config': full, 'registered_name': None})
    return {'module': 'keras', 'class_name': 'Sequential',
            'config': {'name': 'sequential', 'trainable': True, 'dtype': dtype, 'layers': entries},
            'registered_name': None, 'build_config': {'input_shape': [None, *input_shape]}, 'compile_config': None}


def write_keras3(path, layers, input_shape):
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        top = f.create_group('layers')
        for _, cfg, weights in layers:
            g = top.create_group(cfg['name']).create_group('vars')
            for i, w in enumerate(weights):
                g.create_dataset(str(i), data=np.asarray(w, dtype=np.float32))
        f.create_group('optimizer').create_group('vars')
        f.create_group('vars')
    def entry(name):  # a fixed date, so the same models write the same bytes
        return zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))

    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr(entry('metadata.json'), json.dumps({'keras_version': '3.3.3', 'date_saved': '2026-01-01@00:00:00'}), zipfile.ZIP_DEFLATED)
        z.writestr(entry('config.json'), json.dumps(keras3_config(layers, input_shape)), zipfile.ZIP_DEFLATED)
        z.writestr(entry('model.weights.h5'), buf.getvalue(), zipfile.ZIP_DEFLATED)


WEIGHT_NAMES = {'Conv2D': ['kernel', 'bias'], 'Dense': ['kernel', 'bias'],
                'BatchNormalization': ['gamma', 'beta', 'moving_mean', 'moving_variance']}


def write_legacy_h5(path, layers, input_shape):
    entries = [{'class_name': 'InputLayer',
                'config': {'batch_input_shape': [None, *input_shape], 'dtype': 'float32', 'sparse': False, 'ragged': False,
                           'name': 'input_1'}}]
    for cls, cfg, _ in layers:
        entries.append({'class_name': cls, 'config': {'trainable': True, 'dtype': 'float32', **cfg}})
    config = {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': entries}}
    with h5py.File(path, 'w') as f:
        f.attrs['keras_version'] = '2.11.0'
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = json.dumps(config)
        mw = f.create_group('model_weights')
        mw.attrs['layer_names'] = [cfg['name'].encode() for _, cfg, _ in layers]
        mw.attrs['backend'] = 'tensorflow'
        mw.attrs['keras_version'] = '2.11.0'
        for cls, cfg, weights in layers:
            g = mw.create_group(cfg['name'])
            names = [f'{cfg["name"]}/{n}:0' for n in WEIGHT_NAMES.get(cls, [])]
            g.attrs['weight_names'] = [n.encode() for n in names]
            for n, w in zip(names, weights):
                g.create_dataset(n, data=np.asarray(w, dtype=np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, make, shape, keras in [
        ('mlp', mlp, (1, 8, 8), False),
        ('cnn3', cnn3, (3, 8, 8), True),
        ('cnn1', cnn1, (1, 8, 8), True),
        ('matmul', MatMulNet, (1, 8, 8), False),
    ]:
        seed = sum(map(ord, name))
        torch.manual_seed(seed)
        model = seeded(make(), seed)
        x = export_onnx(model, shape, name, seed)
        probs = probabilities(model, x)
        write_io(name, x, probs, 'nchw')
        if keras:
            nhwc = x.permute(0, 2, 3, 1).contiguous()
            hwc = (shape[1], shape[2], shape[0])
            layers = keras_layers(model, shape)
            write_keras3(os.path.join(OUT, f'{name}.keras'), layers, hwc)
            write_legacy_h5(os.path.join(OUT, f'{name}.h5'), layers, hwc)
            write_io(f'{name}-keras', nhwc, probs, 'nhwc')
    # Models the importer must refuse: a LeakyRelu, and a grouped convolution.
    torch.manual_seed(1)
    leaky = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.LeakyReLU(0.1), nn.Linear(8, 3)).eval()
    export_onnx(leaky, (1, 8, 8), 'bad-leakyrelu', 1)
    grouped = nn.Sequential(nn.Conv2d(2, 4, 3, groups=2), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()
    export_onnx(grouped, (2, 8, 8), 'bad-groups', 2)
    # Padding 1 at stride 2 on 8x8: symmetric, where Keras 'same' pads [0, 1] on each axis.
    strided = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).eval()
    export_onnx(strided, (1, 8, 8), 'bad-pads', 3)
    # ceil_mode on a 7x7 map: 4x4 where Keras pools to 3x3.
    ceil = nn.Sequential(nn.Conv2d(1, 2, 2), nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).eval()
    export_onnx(ceil, (1, 8, 8), 'bad-ceil', 4)
    # An HDF5 file that is not a Keras model.
    with h5py.File(os.path.join(OUT, 'not-keras.h5'), 'w') as f:
        f.create_dataset('numbers', data=np.arange(10, dtype=np.float32))
    print(f'wrote fixtures to {os.path.normpath(OUT)}', file=sys.stderr)


if __name__ == '__main__':
    main()
