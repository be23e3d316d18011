#!/usr/bin/env python3
"""Python PyTorch's side of the side-by-side benchmark (bench/peer/compare.py runs it alternately
with dermsim's build/bench/peer_bench): one timed measurement per invocation, one JSON line out.

The same network and loss as dermsim (peer_net.py; tests/torch/peer_model_test.cpp proves it), the
same batches (2 x 32 class-balanced, 128 px), AdamW 1e-3 / 1e-4, channels_last, 2 threads, written
the way Python users write it:
  --mode train-preloaded   images decoded once into a uint8 tensor; per-image torchvision tensor
                           transforms in the training loop (flips, rotation, resized crop, colour)
  --mode train-dataloader  a Dataset reading the JPEGs with PIL and torchvision transforms, a
                           DataLoader with 2 worker processes
  --mode train-compute     the model step alone on 4 batches made beforehand, cycled
  --mode infer             eval + no_grad at batch 64 from the uint8 tensor (float, normalise)
  --mode latency           the same, one image at a time; per-call milliseconds
--precision bf16 wraps the forward pass in torch.autocast("cpu", dtype=torch.bfloat16).
"""
import argparse
import contextlib
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_net import SmallEmbeddingNet, contrastive_loss  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "isic2020")
SIZE, PER_CLASS, INFER_BATCH, PRECOMPUTED = 128, 32, 64, 4


def sample_images():
    """(paths, labels) of the shipped ISIC sample, in file-name order."""
    with open(os.path.join(ROOT, "ISIC_2020_Training_GroundTruth.csv"), newline="") as f:
        target = {row["image_name"]: int(row["target"]) for row in csv.DictReader(f)}
    names = sorted(n[:-4] for n in os.listdir(os.path.join(ROOT, "train")) if n.endswith(".jpg") and n[:-4] in target)
    return [os.path.join(ROOT, "train", n + ".jpg") for n in names], [target[n] for n in names]


def fit(image):
    """Centre crop to a square, resize to SIZE (what dermsim prepare does)."""
    w, h = image.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    return image.crop(box).resize((SIZE, SIZE), Image.BILINEAR)


def preload(paths):
    arrays = [np.asarray(fit(Image.open(p).convert("RGB"))) for p in paths]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # N x 3 x H x W uint8


def augmentation():
    return [T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.RandomRotation(180),
            T.RandomResizedCrop(SIZE, scale=(0.75, 1.0), antialias=True),
            T.ColorJitter(0.2, 0.2, 0.2, 0.03)]


class BalancedBatches:
    """Batch sampler: PER_CLASS benign then PER_CLASS malignant indices, drawn at random."""

    def __init__(self, labels, steps, seed=0):
        labels = np.asarray(labels)
        self.classes = [np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)]
        self.steps, self.rng = steps, np.random.default_rng(seed)

    def __len__(self):
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            yield [int(i) for c in self.classes for i in self.rng.choice(c, PER_CLASS)]


class JpegDataset(torch.utils.data.Dataset):
    def __init__(self, paths, labels, mean, std):
        self.paths, self.labels = paths, labels
        self.transform = T.Compose([T.Lambda(fit)] + augmentation() + [T.ToTensor(), T.Normalize(mean, std)])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.transform(Image.open(self.paths[i]).convert("RGB")), self.labels[i]


class Side:
    def __init__(self, args, images, labels):
        torch.manual_seed(0)
        self.model = SmallEmbeddingNet().to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=1e-4)
        self.bf16 = args.precision == "bf16"
        self.images, self.labels = images, torch.tensor(labels)
        as_float = images.float() / 255
        self.mean = as_float.mean(dim=(0, 2, 3)).tolist()
        self.std = as_float.std(dim=(0, 2, 3)).tolist()
        self.normalise = T.Normalize(self.mean, self.std)
        self.augment = T.Compose(augmentation())

    def autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()

    def step(self, images, labels):
        self.model.train()
        with self.autocast():
            embeddings = self.model(images.contiguous(memory_format=torch.channels_last))
        loss = contrastive_loss(embeddings.float(), labels)
        loss.item()  # as dermsim's trainer, read the loss every step
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def preloaded_batch(self, indices):
        batch = torch.stack([self.normalise(self.augment(self.images[i].float() / 255)) for i in indices])
        return batch, self.labels[indices]

    def embed(self, chunk):
        self.model.eval()
        with torch.no_grad(), self.autocast():
            x = self.normalise(chunk.float() / 255).contiguous(memory_format=torch.channels_last)
            return self.model(x).float()


def timed_steps(side, batches, warmup, steps):
    """Steps over an iterator of (images, labels); seconds of the last `steps` (batch making included)."""
    batches = iter(batches)
    for _ in range(warmup):
        side.step(*next(batches))
    start = time.perf_counter()
    for _ in range(steps):
        side.step(*next(batches))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True,
                        choices=["train-preloaded", "train-dataloader", "train-compute", "infer", "latency"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    setup_start = time.perf_counter()
    paths, labels = sample_images()
    side = Side(args, preload(paths), labels)
    setup_seconds = time.perf_counter() - setup_start
    total = args.warmup + args.steps
    batch = 2 * PER_CLASS
    result = {}
    if args.mode == "train-preloaded":
        batches = (side.preloaded_batch(b) for b in BalancedBatches(labels, total))
        result["images_per_second"] = args.steps * batch / timed_steps(side, batches, args.warmup, args.steps)
    elif args.mode == "train-dataloader":
        loader = torch.utils.data.DataLoader(JpegDataset(paths, labels, side.mean, side.std),
                                             batch_sampler=BalancedBatches(labels, total), num_workers=2)
        result["images_per_second"] = args.steps * batch / timed_steps(side, loader, args.warmup, args.steps)
    elif args.mode == "train-compute":
        made = [side.preloaded_batch(b) for b in BalancedBatches(labels, PRECOMPUTED)]
        cycled = (made[i % PRECOMPUTED] for i in range(total))
        result["images_per_second"] = args.steps * batch / timed_steps(side, cycled, args.warmup, args.steps)
    elif args.mode == "infer":
        n = len(side.images)
        chunks = [side.images[torch.arange(s, s + INFER_BATCH) % n] for s in range(0, total * INFER_BATCH, INFER_BATCH)]
        for chunk in chunks[:args.warmup]:
            side.embed(chunk)
        start = time.perf_counter()
        for chunk in chunks[args.warmup:]:
            side.embed(chunk)
        result["images_per_second"] = args.steps * INFER_BATCH / (time.perf_counter() - start)
    else:
        ms = []
        for i in range(total):
            one = side.images[i % len(side.images)].unsqueeze(0)
            start = time.perf_counter()
            side.embed(one)
            if i >= args.warmup:
                ms.append(1e3 * (time.perf_counter() - start))
        result["latency_ms"] = ms
    result.update(side="python", mode=args.mode, precision=args.precision, threads=args.threads,
                  steps=args.steps, setup_seconds=setup_seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
