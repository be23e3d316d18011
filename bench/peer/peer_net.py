#!/usr/bin/env python3
"""dermsim's default "small" embedding network and contrastive loss written the usual Python
PyTorch way, for the side-by-side benchmark (bench/peer/compare.py). Parameter and buffer names
are dermsim's (src/model/embedding_net.cpp), so dermsim's weights load by name.

`peer_net.py --check DIR` is the oracle of tests/torch/peer_model_test.cpp: it reads DIR/weights.bin
and DIR/input.bin (written by dermsim), and writes the eval-mode embeddings, the contrastive loss
on them and the parameter count to DIR/output.bin.
"""
import argparse
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from export_torchvision_resnet18 import write_tensor_file  # noqa: E402

CODE_DTYPES = {0: np.float32, 1: np.float64, 2: np.int64}


def read_tensor_file(path):
    """dermsim's DSTENSOR file (src/model/weights_file.h) as a list of (name, torch tensor)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"DSTENSOR":
        raise ValueError(f"{path}: not a DSTENSOR file")
    version, count = struct.unpack_from("<II", data, 8)
    if version != 1:
        raise ValueError(f"{path}: version {version}")
    pos, tensors = 16, []
    for _ in range(count):
        (name_length,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + name_length].decode("utf-8")
        pos += 4 + name_length
        code, ndim = struct.unpack_from("<BI", data, pos)
        pos += 5
        shape = struct.unpack_from(f"<{ndim}q", data, pos)
        pos += 8 * ndim
        dtype = np.dtype(CODE_DTYPES[code])
        count_elements = int(np.prod(shape)) if ndim else 1
        array = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count_elements, offset=pos)
        pos += count_elements * dtype.itemsize
        tensors.append((name, torch.from_numpy(array.reshape(shape).astype(dtype))))
    return tensors


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        identity = self.downsample(x) if self.downsample is not None else x
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class SmallEmbeddingNet(nn.Module):
    """Stem (3x3 stride 2, 32 channels) and four stages of one basic block (32-256 channels, each
    stride 2), global average pool, linear projection, L2 normalisation; plus the joint head."""

    def __init__(self, embed_dim=128):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        channels, previous = [32, 64, 128, 256], 32
        for s, c in enumerate(channels):
            setattr(self, f"layer{s + 1}", nn.Sequential(BasicBlock(previous, c, 2)))
            previous = c
        self.embed = nn.Linear(previous, embed_dim)
        self.head = nn.Linear(embed_dim, 1)
        for m in self.modules():  # torchvision's ResNet init, as dermsim
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, images):
        x = F.relu(self.bn1(self.conv1(images)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.normalize(self.embed(x), p=2, dim=1)


def load_dermsim_weights(model, path):
    """Copies every tensor of a dermsim weights file into the model; names must match exactly."""
    state = dict(read_tensor_file(path))
    own = model.state_dict()
    if set(state) != set(own):
        raise ValueError(f"{path}: names differ: {sorted(set(state) ^ set(own))}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def contrastive_loss(embeddings, labels, margin=1.0, eps=1e-12):
    """dermsim's contrastive_loss (src/train/losses.h): all i < j pairs, positive and negative
    pairs averaged separately, then together."""
    n = embeddings.shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    d2 = (embeddings[i] - embeddings[j]).pow(2).sum(1)
    same = labels[i] == labels[j]
    positive = 0.5 * d2
    negative = 0.5 * (margin - torch.sqrt(d2 + eps)).clamp(min=0).pow(2)
    parts = []
    if same.any():
        parts.append(positive[same].mean())
    if (~same).any():
        parts.append(negative[~same].mean())
    return torch.stack(parts).mean()


def forward_flops_per_image(model, image_size):
    """Multiply-adds of every convolution and linear layer, x2: FLOPs of one forward pass."""
    flops = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            flops.append(2 * output.numel() * kernel)
        elif isinstance(module, nn.Linear):
            flops.append(2 * output.numel() * module.in_features)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()
        model(torch.zeros(1, 3, image_size, image_size))
    for h in hooks:
        h.remove()
    return sum(flops)


def check(directory):
    model = SmallEmbeddingNet()
    load_dermsim_weights(model, os.path.join(directory, "weights.bin"))
    model.eval()
    io = dict(read_tensor_file(os.path.join(directory, "input.bin")))
    images, labels = io["images"], io["labels"]
    with torch.no_grad():
        embeddings = model(images)
        loss = contrastive_loss(embeddings.double(), labels)
    parameters = sum(p.numel() for p in model.parameters())
    write_tensor_file(os.path.join(directory, "output.bin"), [
        ("embeddings", embeddings),
        ("loss", loss.reshape(1)),
        ("parameter_count", torch.tensor([parameters], dtype=torch.int64)),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", metavar="DIR", required=True, help="oracle mode (see above)")
    check(parser.parse_args().check)


if __name__ == "__main__":
    main()
