// Antialiased resizing and square fitting for the image cache. The filter matches Pillow's
// Image.resize(..., BILINEAR), so Python tooling and dermsim see the same pixels.
#pragma once

#include "image/decode.h"

namespace dermsim {

enum class FitMode {
  kCenterCrop,  // central square, then resize: dermoscopy centres the lesion and this keeps its
                // shape
  kPad,         // pad to a square with the mean border colour, then resize: keeps the whole field
};

// Separable triangle filter whose support widens with the downscale factor (Pillow's BILINEAR),
// 8-bit fixed-point like Pillow, horizontal pass first.
RgbImage resize_bilinear(const RgbImage& image, int out_width, int out_height);

// A size x size image made from `image` by cropping or padding to a square, then resize_bilinear.
RgbImage fit_square(const RgbImage& image, int size, FitMode mode = FitMode::kCenterCrop);

}  // namespace dermsim
