// `dermsim embed`: embeddings of a split (or all images) of a run to FILE.npy (float32, n x dim,
// numpy.load reads it) plus FILE.csv with the image name, label, part and patient of each row.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>

#include <memory>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/run_lock.h"
#include "image/decode_many.h"
#include "inference/run_model.h"

namespace dermsim::cli {
namespace {

// NumPy's .npy format, version 1.0: magic, header length, a Python dict literal padded to a multiple
// of 64 bytes, then the raw little-endian float32 data in C order.
void write_npy(const std::string& path, const Embeddings& x) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(x.size()) + ", " + std::to_string(x.dim) + "), }";
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  const uint16_t length = static_cast<uint16_t>(header.size());
  out += char(length & 0xff);
  out += char(length >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(x.values.data()), x.values.size() * sizeof(float));
  write_file_atomic(path, out);
}

void embed_folder(const RunData& data, const LoadedModel& model, const std::string& dir, int tta,
                  int threads, const std::string& base) {
  const std::vector<std::string> paths = list_image_files(dir);
  if (paths.empty()) throw UserError(dir + ": no .jpg, .jpeg or .png images in this folder");
  const int size = data.cache.image_size();
  DecodedImages decoded = decode_and_fit(paths, size, fit_mode_of(data), threads);
  std::vector<const uint8_t*> pixels;
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!decoded.errors[i].empty()) {
      std::fprintf(stderr, "warning: skipped: %s\n", decoded.errors[i].c_str());
      continue;
    }
    pixels.push_back(decoded.images[i].pixels.data());
    rows.push_back({image_id_from_path(paths[i]), paths[i]});
  }
  const EmbedResult r = embed_pixels(model, pixels, size, tta);
  write_npy(base + ".npy", r.embeddings);
  write_csv(base + ".csv", {"image_name", "path"}, rows);
  std::printf("wrote %s.npy (%zu x %d float32) and %s.csv\n", base.c_str(), r.embeddings.size(),
              r.embeddings.dim, base.c_str());
}

}  // namespace

void add_embed_command(CLI::App& app) {
  struct Args {
    std::string run, split = "all", dir, out, device = "auto";
    int tta = 1, threads = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("embed", "write embeddings of a run's images (.npy + .csv)");
  cmd->add_option("--run", args->run, "trained run folder")->required();
  cmd->add_option("--split", args->split, "train | val | test | all")->capture_default_str()
      ->check(CLI::IsMember({"train", "val", "test", "all"}));
  cmd->add_option("--dir", args->dir, "embed the images of this folder instead of the run's");
  cmd->add_option("--out", args->out, "output path without extension (default RUN/embeddings-SPLIT)");
  cmd->add_option("--tta", args->tta, "test-time augmentation variants (1-8)")->check(CLI::Range(1, 8));
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  cmd->callback([args] {
    // Writing into the run (the default --out) takes its lock; writing elsewhere only reads it.
    std::unique_ptr<RunLock> lock;
    if (args->out.empty()) lock = std::make_unique<RunLock>(args->run, "embed");
    const RunData data = load_run_data(args->run);
    const LoadedModel model = load_model(data, args->device, args->threads);
    if (!args->dir.empty()) {
      embed_folder(data, model, args->dir, args->tta, args->threads,
                   args->out.empty() ? args->run + "/embeddings-folder" : args->out);
      return;
    }
    std::vector<Part> parts = args->split == "all"
                                  ? std::vector<Part>{Part::kTrain, Part::kVal, Part::kTest}
                                  : std::vector<Part>{part_from_string(args->split)};
    Embeddings all;
    std::vector<std::vector<std::string>> rows;
    for (Part part : parts) {
      PartEmbeddings e = embed_part(model, data, part, args->tta, true);
      all.dim = e.x.dim;
      all.values.insert(all.values.end(), e.x.values.begin(), e.x.values.end());
      for (size_t j = 0; j < e.indices.size(); ++j)
        rows.push_back({data.images[e.indices[j]].image_name, std::to_string(e.y[j]),
                        to_string(part), e.groups[j]});
    }
    const std::string base = args->out.empty() ? args->run + "/embeddings-" + args->split : args->out;
    write_npy(base + ".npy", all);
    write_csv(base + ".csv", {"image_name", "target", "part", "group"}, rows);
    std::printf("wrote %s.npy (%zu x %d float32) and %s.csv\n", base.c_str(), all.size(), all.dim,
                base.c_str());
  });
}

}  // namespace dermsim::cli
