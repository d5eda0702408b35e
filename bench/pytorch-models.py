#!/usr/bin/python3
"""Trains a small PyTorch CNN on Fashion-MNIST with a starved label and writes it as ONNX, .keras and .h5.

The model that bench/import-check.ts (issue 14) loads with `mode eval`, `analyze`, `repair`, `select`
and `repair --add`: conv(1->16, 3, padding 1) relu maxpool2, conv(16->32, 3) relu maxpool2, flatten,
linear(1152->64) relu, linear(64->10) logits; inputs normalised (x/255 - 0.2860) / 0.3530.

Training data: the 60,000 training images less a pool of 5,000 (seeded), with label 6 (Shirt) starved
to 2% of its images, so the model has a real bug for MODE to find. 2 epochs of Adam (lr 1e-3), batch 64,
seeded, on CPU with 2 threads.

Writes to OUT (the first argument, e.g. runs/pytorch):
- cnn.onnx: torch.onnx.export, opset 13, input 'input' [N, 1, 28, 28] (dynamic batch), output 'logits';
- cnn.keras, cnn.h5: the same weights in Keras layout, by scripts/make-model-fixtures.py's writers;
- reference.json: PyTorch's test accuracy, per-label recall and predictions on the 10,000 test images,
  the normalisation, the seed, the training sizes and time;
- labeled.npz: x_train/y_train = the (starved) training images the model was trained on, x_test/y_test
  = the 10,000 test images (uint8, [N, 28, 28]): the labeled data of `mode select --data`;
- pool.npz: x = the 5,000 held-out training images (uint8), no labels: the unlabelled pool;
- pool-labels.json: the pool's hidden labels, for a scripted labeler.

Run: /usr/bin/python3 bench/pytorch-models.py runs/pytorch   (python3-torch and python3-h5py:
scripts/install-bench-deps.sh). Takes 1-3 minutes on 2 cores.
"""
import gzip
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

DATA = '/usr/share/datasets/fashion-mnist'
MEAN, STD = 0.2860, 0.3530
SEED = 1
STARVED_LABEL, STARVED_KEEP = 6, 0.02
POOL_SIZE = 5000
EPOCHS, BATCH, LR = 2, 64, 1e-3
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

HERE = os.path.dirname(os.path.abspath(__file__))


def fixture_writers():
    """scripts/make-model-fixtures.py as a module: its keras_layers, write_keras3 and write_legacy_h5."""
    path = os.path.join(HERE, '..', 'scripts', 'make-model-fixtures.py')
    spec = importlib.util.spec_from_file_location('make_model_fixtures', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def normalised(x):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28], (x / 255 - mean) / std as torchvision's ToTensor + Normalize."""
    t = torch.from_numpy(x.astype(np.float32) / np.float32(255)).unsqueeze(1)
    return (t - MEAN) / STD


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 6 * 6, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: bench/pytorch-models.py OUT_DIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    x_all, y_all = read_idx('train-images-idx3-ubyte.gz'), read_idx('train-labels-idx1-ubyte.gz').astype(np.int64)
    x_test, y_test = read_idx('t10k-images-idx3-ubyte.gz'), read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64)

    order = rng.permutation(len(x_all))
    pool_idx, train_idx = np.sort(order[:POOL_SIZE]), order[POOL_SIZE:]
    starved = train_idx[y_all[train_idx] == STARVED_LABEL]
    keep = rng.choice(starved, size=int(round(len(starved) * STARVED_KEEP)), replace=False)
    train_idx = np.sort(np.concatenate([train_idx[y_all[train_idx] != STARVED_LABEL], keep]))
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    counts = np.bincount(y_train, minlength=10)
    print(f'train {len(train_idx)} (label {STARVED_LABEL}: {counts[STARVED_LABEL]} of {len(starved)}), '
          f'pool {len(pool_idx)}, test {len(x_test)}', file=sys.stderr)

    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = normalised(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(SEED)
    start = time.time()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), BATCH):
            b = perm[i:i + BATCH]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[b]), yt[b])
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        print(f'epoch {epoch + 1}/{EPOCHS}: loss {total / len(xt):.4f} ({time.time() - start:.0f} s)', file=sys.stderr)
    train_seconds = time.time() - start
    model.eval()

    with torch.no_grad():
        logits = torch.cat([model(normalised(x_test[i:i + 1000])) for i in range(0, len(x_test), 1000)])
    pred = logits.argmax(1).numpy()
    accuracy = float((pred == y_test).mean())
    recall = [float((pred[y_test == c] == c).mean()) for c in range(10)]
    print(f'PyTorch test accuracy {accuracy * 100:.2f}%, label {STARVED_LABEL} recall {recall[STARVED_LABEL] * 100:.1f}%',
          file=sys.stderr)

    torch.onnx.export(
        model, torch.zeros((1, 1, 28, 28)), os.path.join(out, 'cnn.onnx'), opset_version=13,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    fx = fixture_writers()
    layers = fx.keras_layers(model, (1, 28, 28))
    fx.write_keras3(os.path.join(out, 'cnn.keras'), layers, (28, 28, 1))
    fx.write_legacy_h5(os.path.join(out, 'cnn.h5'), layers, (28, 28, 1))

    np.savez_compressed(os.path.join(out, 'labeled.npz'), x_train=x_train, y_train=y_train.astype(np.uint8),
                        x_test=x_test, y_test=y_test.astype(np.uint8))
    np.savez_compressed(os.path.join(out, 'pool.npz'), x=x_all[pool_idx])
    with open(os.path.join(out, 'pool-labels.json'), 'w') as f:
        json.dump([int(v) for v in y_all[pool_idx]], f)

    with open(os.path.join(out, 'reference.json'), 'w') as f:
        json.dump({
            'framework': f'torch {torch.__version__}',
            'dataset': 'fashion-mnist',
            'classNames': CLASSES,
            'normalize': {'mean': MEAN, 'std': STD, 'formula': '(x / 255 - mean) / std, float32'},
            'seed': SEED,
            'epochs': EPOCHS, 'batchSize': BATCH, 'learningRate': LR, 'optimizer': 'adam',
            'starved': {'label': STARVED_LABEL, 'keep': STARVED_KEEP},
            'trainSize': int(len(train_idx)), 'trainCounts': [int(v) for v in counts],
            'poolSize': POOL_SIZE, 'poolCounts': [int(v) for v in np.bincount(y_all[pool_idx], minlength=10)],
            'trainSeconds': round(train_seconds, 1),
            'testAccuracy': accuracy,
            'testRecall': recall,
            'testPredictions': [int(v) for v in pred],
        }, f)
    print(f'wrote {out}', file=sys.stderr)


if __name__ == '__main__':
    main()
