// Antialiased resizing and square fitting for the image cache. The filter matches Pillow's
// Image.resize(..., BILINEAR), so Python tooling and dermsim see the same pixels.
#pragma once

#include <string>

#include "image/decode.h"

namespace dermsim {

enum class FitMode {
  kCenterCrop,  // central square, then resize: dermoscopy centres the lesion and this keeps its
                // shape
  kPad,         // pad to a square with the mean border colour, then resize: keeps the whole field
};

// What is done to the colours of a fitted image.
enum class ColourMode {
  kAsTaken,       // the camera's colours
  kShadesOfGray,  // Shades of Gray colour constancy (Finlayson & Trezzi 2004, Minkowski p = 6):
                  // divides out the illuminant estimated from the image, so dermatoscopes with
                  // different colour casts give alike images (Barata et al. 2015 for dermoscopy)
};

// How an image becomes a cached square: the shape fit and the colour step, recorded in the cache and
// the run's manifest so that every later image (predict, serve, similar) is fitted the same way.
struct ImageFit {
  FitMode mode = FitMode::kCenterCrop;
  ColourMode colour = ColourMode::kAsTaken;
};
std::string to_string(FitMode mode);
std::string to_string(ColourMode colour);
FitMode fit_mode_from_string(const std::string& name);       // "crop" | "pad", else invalid_argument
ColourMode colour_mode_from_string(const std::string& name);  // "as-taken" | "shades-of-gray"

// Separable triangle filter whose support widens with the downscale factor (Pillow's BILINEAR),
// 8-bit fixed-point like Pillow, horizontal pass first.
RgbImage resize_bilinear(const RgbImage& image, int out_width, int out_height);

// Shades of Gray colour constancy in place: each channel c is scaled by 1 / (sqrt(3) e_c), where e is
// the unit-length vector of the channels' Minkowski p-norm means (p = 6), then clipped to 0..255.
// A grey image (equal channel norms) is left as it is; an all-black image too.
void shades_of_gray(RgbImage& image);

// A size x size image made from `image` by cropping or padding to a square, then resize_bilinear,
// then the colour step.
RgbImage fit_square(const RgbImage& image, int size, const ImageFit& fit = {});

}  // namespace dermsim
