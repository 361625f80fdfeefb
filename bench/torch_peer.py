"""The native peer: the chapter's stacked autoencoder in PyTorch on one CPU thread.

    python3 bench/torch_peer.py [--data DIR] [--json]      # needs: pip install torch numpy

Same model (784-128-64-32-64-128-784, relu, sigmoid output), loss (binary cross-entropy), optimiser
(SGD, lr 1.5), data (Fashion-MNIST / 255) and Glorot-uniform initialisation as ours. Prints ms per
training step at batch 32 and 256 (after a warm-up) and one epoch of 60k at batch 32 with
validation on the 10k test images, the figures `fmnist-ae bench` prints for our CLI.
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (gzip): u8 images or labels."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory):
    def images(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).reshape(-1, 784).astype(np.float32) / 255.0)

    return images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")


def stacked_autoencoder():
    sizes = [784, 128, 64, 32, 64, 128, 784]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.Sigmoid() if i == len(sizes) - 2 else nn.ReLU()]
    return nn.Sequential(*layers)


def step_ms(model, optimiser, loss, train, batch, steps, warmup=10):
    """Mean ms per training step over `steps` steps, after `warmup` untimed ones."""
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        x = train[(i * batch) % (len(train) - batch) :][:batch]
        optimiser.zero_grad(set_to_none=True)
        loss(model(x), x).backward()
        optimiser.step()
    return (time.perf_counter() - start) * 1000 / steps


def epoch_seconds(model, optimiser, loss, train, test, batch=32):
    start = time.perf_counter()
    order = torch.randperm(len(train))
    for first in range(0, len(train), batch):
        x = train[order[first : first + batch]]
        optimiser.zero_grad(set_to_none=True)
        loss(model(x), x).backward()
        optimiser.step()
    with torch.no_grad():
        total = sum(loss(model(x), x).item() * len(x) for x in test.split(1000))
    return time.perf_counter() - start, total / len(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", DEBIAN_DIR), help="folder with the four IDX .gz files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    train, test = load(args.data)
    model = stacked_autoencoder()
    optimiser = torch.optim.SGD(model.parameters(), lr=1.5)
    loss = nn.BCELoss()
    results = {
        "peer": f"PyTorch {torch.__version__}, CPU, 1 thread",
        "ms_per_step_batch32": step_ms(model, optimiser, loss, train, 32, 2000),
        "ms_per_step_batch256": step_ms(model, optimiser, loss, train, 256, 300),
    }
    results["epoch_seconds"], results["val_loss"] = epoch_seconds(model, optimiser, loss, train, test)
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{results['peer']}: {results['ms_per_step_batch32']:.2f} ms/step at batch 32, "
              f"{results['ms_per_step_batch256']:.2f} ms at batch 256, one epoch + validation {results['epoch_seconds']:.2f} s")


if __name__ == "__main__":
    main()
