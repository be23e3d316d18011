#!/usr/bin/env python3
"""Oracle for tests/torch/model_test.cpp: exports a randomly initialised torchvision resnet18 with
scripts/export_torchvision_resnet18.py and writes a fixed input and its eval-mode pooled 512-D
features (torchvision's forward up to, not including, fc) to DIR/reference.bin."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from export_torchvision_resnet18 import make_resnet18, write_tensor_file  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = make_resnet18(args.seed)
    # Random running statistics, so eval-mode BN is not the identity the init leaves it at.
    generator = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
    model.eval()
    write_tensor_file(os.path.join(args.dir, "weights.bin"), list(model.state_dict().items()))
    images = torch.randn(2, 3, 96, 96, generator=generator)
    with torch.no_grad():
        fc_input = []
        model.fc.register_forward_hook(lambda module, inputs, output: fc_input.append(inputs[0]))
        model(images)
    write_tensor_file(os.path.join(args.dir, "reference.bin"), [("images", images), ("features", fc_input[0])])


if __name__ == "__main__":
    main()
