#!/usr/bin/python3
"""The Python peer of `dermsim prepare` on full-size JPEGs (bench/scale.sh): every JPEG of a folder
decoded, centre-cropped to a square and resized (antialiased bilinear) to --size, one worker process
per core, into one uint8 array, as a Python user without Pillow would write it on this machine.

Pillow (whose draft() decodes in the DCT domain, like dermsim) is not installed here, so the decoder
is torchvision.io.decode_jpeg (libjpeg, full-size decode) from Debian's python3-torchvision.
Prints images/s; run it under /usr/bin/time -v for peak memory.
"""
import argparse, os, time
from multiprocessing import Pool

import torch
import torch.nn.functional as F
from torchvision.io import decode_jpeg, read_file


def fit(path_and_size):
    path, size = path_and_size
    image = decode_jpeg(read_file(path))  # C x H x W uint8
    _, h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[:, top:top + side, left:left + side].unsqueeze(0).float()
    small = F.interpolate(square, size=(size, size), mode='bilinear', antialias=True, align_corners=False)
    return small.round().clamp(0, 255).to(torch.uint8)[0]


def init_worker():
    torch.set_num_threads(1)  # one process per core, as dermsim's decode threads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--images', required=True, help='folder of JPEGs')
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--workers', type=int, default=os.cpu_count())
    args = ap.parse_args()
    files = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.endswith('.jpg'))
    start = time.perf_counter()
    with Pool(args.workers, initializer=init_worker) as pool:
        images = pool.map(fit, [(f, args.size) for f in files], chunksize=4)
    cache = torch.stack(images)
    seconds = time.perf_counter() - start
    print(f'{len(files)} images -> {tuple(cache.shape)} uint8 in {seconds:.2f} s: '
          f'{len(files) / seconds:.1f} images/s ({args.workers} workers)')


if __name__ == '__main__':
    main()
