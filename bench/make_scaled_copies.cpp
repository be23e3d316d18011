// Synthetic ISIC-2020-sized data for bench/scale.sh: renamed, lightly perturbed copies of a real
// sample (data/isic2020), with unique image and patient ids and a chosen melanoma share, written
// in the official layout (ISIC_2020_Training_GroundTruth.csv + train/) and the Kaggle one
// (train-metadata.csv + train-image/image/, hard links to the same files), or as an unlabelled
// official test set (ISIC_2020_Test_Metadata.csv + test/). --width/--height upscale every copy
// (a few hundred 6000x4000 JPEGs stand in for the full-size originals prepare must also handle).
// Decoding and encoding go through dermsim's own image code: the machine has no Pillow.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/parallel_for.h"
#include "common/splitmix64.h"
#include "data/metadata.h"
#include "image/decode.h"
#include "image/encode.h"
#include "image/resize.h"

namespace fs = std::filesystem;
using namespace dermsim;

namespace {

struct Options {
  std::string source, out;
  int images = 1000;
  double melanoma_fraction = 0.018;  // ISIC 2020: 584 of 33,126
  bool test_set = false;             // unlabelled test layout instead of the two training ones
  int width = 0, height = 0;         // 0 = the source image's own size
  int noise = 2;                     // +-noise per pixel
  int threads = 0;
  uint64_t seed = 11;
};

// One output image: which source record it copies and which copy round of that source it is.
struct Copy {
  size_t source = 0;
  int round = 0;
};

// n_images copies cycling through a shuffled order of `pool`, so every source is used once before
// any is used twice; round = how many times the source was used before.
void add_copies(const std::vector<size_t>& pool, size_t n_images, SplitMix64& rng,
                std::vector<Copy>& copies) {
  std::vector<size_t> order = pool;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  for (size_t j = 0; j < n_images; ++j)
    copies.push_back({order[j % order.size()], static_cast<int>(j / order.size())});
}

// A light perturbation that keeps the lesion recognisable: a flip, a global gain, a per-channel
// offset and +-noise per pixel (so no two copies share bytes or compress alike).
void perturb(RgbImage& image, int noise, uint64_t seed) {
  SplitMix64 rng(seed);
  const int flip = static_cast<int>(rng.below(4));  // 0 none, 1 horizontal, 2 vertical, 3 both
  const double gain = 0.95 + 0.1 * static_cast<double>(rng.below(1001)) / 1000.0;
  int offset[3];
  for (int& o : offset) o = static_cast<int>(rng.below(9)) - 4;
  const int w = image.width, h = image.height;
  std::vector<uint8_t> out(image.pixels.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int sx = (flip & 1) ? w - 1 - x : x, sy = (flip & 2) ? h - 1 - y : y;
      const uint64_t bits = rng.next();
      for (int c = 0; c < 3; ++c) {
        const int v = image.pixels[(static_cast<size_t>(sy) * w + sx) * 3 + c];
        const int jitter = static_cast<int>((bits >> (16 * c)) % (2 * noise + 1)) - noise;
        out[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(
            std::clamp(static_cast<int>(std::lround(v * gain)) + offset[c] + jitter, 0, 255));
      }
    }
  image.pixels = std::move(out);
}

std::string image_name(size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "ISIC_S%07zu", i);
  return name;
}

std::string age_text(double age) { return std::isnan(age) ? "" : std::to_string(std::lround(age)); }

int run(const Options& opt) {
  LoadOptions load;
  load.data_dir = opt.source;
  const LoadedDataset source = load_dataset(load);
  std::vector<size_t> melanoma, benign;
  for (size_t i = 0; i < source.records.size(); ++i)
    (source.records[i].target == 1 ? melanoma : benign).push_back(i);

  const auto n_melanoma = static_cast<size_t>(std::lround(opt.images * opt.melanoma_fraction));
  if ((opt.width > 0) != (opt.height > 0))
    throw UserError("--width and --height go together (both > 0)");
  if (opt.images <= 0 || n_melanoma > static_cast<size_t>(opt.images) ||
      (n_melanoma > 0 && melanoma.empty()) || benign.empty())
    throw UserError("--images " + std::to_string(opt.images) + " with --melanoma-fraction " +
                    std::to_string(opt.melanoma_fraction) + " cannot be drawn from " + opt.source);
  SplitMix64 rng(opt.seed);
  std::vector<Copy> copies;
  add_copies(melanoma, n_melanoma, rng, copies);
  add_copies(benign, opt.images - n_melanoma, rng, copies);
  for (size_t i = copies.size(); i > 1; --i) std::swap(copies[i - 1], copies[rng.below(i)]);

  // A source patient's copies of round r form one synthetic patient: ids unique, and each
  // synthetic patient keeps several images, as in ISIC 2020.
  std::vector<std::string> patient(copies.size());
  size_t n_patients = 0;
  {
    std::vector<std::pair<std::string, int>> keys;
    for (const Copy& c : copies) keys.emplace_back(source.records[c.source].patient_id, c.round);
    std::vector<std::pair<std::string, int>> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    n_patients = sorted.size();
    for (size_t i = 0; i < keys.size(); ++i) {
      const size_t id = std::lower_bound(sorted.begin(), sorted.end(), keys[i]) - sorted.begin();
      char text[32];
      std::snprintf(text, sizeof text, "IP_S%07zu", id);
      patient[i] = text;
    }
  }

  const std::string image_dir = opt.out + (opt.test_set ? "/test" : "/train");
  const std::string kaggle_dir = opt.out + "/kaggle/train-image/image";
  fs::create_directories(image_dir);
  if (!opt.test_set) fs::create_directories(kaggle_dir);
  parallel_for(copies.size(), opt.threads, [&](size_t i) {
    const LesionRecord& r = source.records[copies[i].source];
    RgbImage image = decode_image_file(r.image_path, 0);
    if (opt.width > 0) image = resize_bilinear(image, opt.width, opt.height);
    perturb(image, opt.noise, opt.seed * 0x9E3779B97F4A7C15ULL + i);
    const std::string file = image_dir + "/" + image_name(i) + ".jpg";
    write_file_atomic(file, encode_jpeg(image.pixels.data(), image.width, image.height, 90));
    if (!opt.test_set) {
      const std::string link = kaggle_dir + "/" + image_name(i) + ".jpg";
      fs::remove(link);
      fs::create_hard_link(file, link);
    }
  });

  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < copies.size(); ++i) {
    const LesionRecord& r = source.records[copies[i].source];
    if (opt.test_set)
      rows.push_back({image_name(i), patient[i], r.sex, age_text(r.age), r.site});
    else
      rows.push_back({image_name(i), patient[i], r.sex, age_text(r.age), r.site, r.diagnosis,
                      r.target == 1 ? "malignant" : "benign", std::to_string(r.target)});
  }
  if (opt.test_set) {
    write_csv(opt.out + "/ISIC_2020_Test_Metadata.csv",
              {"image", "patient", "sex", "age_approx", "anatom_site_general"}, rows);
  } else {
    write_csv(opt.out + "/ISIC_2020_Training_GroundTruth.csv",
              {"image_name", "patient_id", "sex", "age_approx", "anatom_site_general_challenge",
               "diagnosis", "benign_malignant", "target"},
              rows);
    std::vector<std::vector<std::string>> kaggle_rows;
    for (const auto& row : rows) kaggle_rows.push_back({row[0], row[1], row[7], row[2], row[3], row[4]});
    write_csv(opt.out + "/kaggle/train-metadata.csv",
              {"isic_id", "patient_id", "target", "sex", "age_approx", "anatom_site_general"},
              kaggle_rows);
  }
  std::printf("%s: %zu images (%zu melanoma) of %zu patients from %s\n", opt.out.c_str(),
              copies.size(), opt.test_set ? size_t{0} : n_melanoma, n_patients, opt.source.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Renamed, lightly perturbed copies of an ISIC 2020 sample at a chosen size"};
  Options opt;
  app.add_option("--source", opt.source, "sample in a known layout (data/isic2020)")->required();
  app.add_option("--out", opt.out, "output folder")->required();
  app.add_option("--images", opt.images, "number of images");
  app.add_option("--melanoma-fraction", opt.melanoma_fraction, "share of melanomas (labelled sets)");
  app.add_flag("--test-set", opt.test_set, "write an unlabelled ISIC_2020_Test_Metadata.csv + test/");
  app.add_option("--width", opt.width, "upscale every image to this width (with --height)");
  app.add_option("--height", opt.height, "upscale height");
  app.add_option("--noise", opt.noise, "+- per-pixel noise (larger: bigger, costlier JPEGs)")
      ->check(CLI::Range(0, 64));
  app.add_option("--threads", opt.threads, "threads (0 = all cores)");
  app.add_option("--seed", opt.seed, "seed of the draw and the perturbations");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(opt);
  } catch (const UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
