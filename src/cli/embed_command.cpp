// `dermsim embed`: embeddings of a split (or all images) of a run to FILE.npy (float32, n x dim,
// numpy.load reads it) plus FILE.csv with the image name, label, part and patient of each row.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/rank_options.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/run_lock.h"
#include "distributed/sharded_inference.h"
#include "image/decode_many.h"
#include "inference/run_model.h"

namespace dermsim::cli {
namespace {

struct EmbedArgs {
  std::string run, split = "all", dir, out, device = "auto";
  int tta = 1, threads = 0;
  int fold = -1;  // a k-fold training: fold K's network, its parts as that fold sees them
  RankArgs ranks;
};

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

// Images decoded and embedded at a time (bounded memory); also the unit the ranks share files in.
constexpr size_t kChunk = 256;

// One rank's share of a folder's files, embedded chunk by chunk; rank 0 writes all of them.
void embed_folder(const RunData& data, const LoadedModel& model, const EmbedArgs& args,
                  const RankPlace& place, ProcessGroup* group, const std::string& base) {
  const std::vector<std::string> paths = list_image_files(args.dir);
  if (paths.empty()) throw UserError(args.dir + ": no .jpg, .jpeg or .png images in this folder");
  const int size = data.cache.image_size();
  const InputShare share = input_share(paths.size(), kChunk, place.rank, place.world_size);
  ShareResult mine;
  for (size_t begin = share.begin; begin < share.end; begin += kChunk) {
    const std::vector<std::string> chunk(paths.begin() + begin,
                                         paths.begin() + std::min(share.end, begin + kChunk));
    DecodedImages decoded = decode_and_fit(chunk, size, image_fit_of(data), args.threads);
    std::vector<const uint8_t*> pixels;
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (!decoded.errors[i].empty()) {
        mine.skipped.push_back(decoded.errors[i]);
        continue;
      }
      pixels.push_back(decoded.images[i].pixels.data());
      mine.rows.push_back({image_id_from_path(chunk[i]), chunk[i]});
    }
    const std::vector<float> values = embed_pixels(model, pixels, size, args.tta).embeddings.values;
    mine.values.insert(mine.values.end(), values.begin(), values.end());
  }
  const ShareResult all = merge_shares(group, std::move(mine));
  if (place.rank != 0) return;
  for (const auto& reason : all.skipped) std::fprintf(stderr, "warning: skipped: %s\n", reason.c_str());
  const Embeddings embeddings{model.options.embed_dim, all.values};
  write_npy(base + ".npy", embeddings);
  write_csv(base + ".csv", {"image_name", "path"}, all.rows);
  std::printf("wrote %s.npy (%zu x %d float32) and %s.csv\n", base.c_str(), embeddings.size(),
              embeddings.dim, base.c_str());
}

// One rank's share of each part of the run (whole embedding batches), rank 0 writes them all.
void embed_run(const RunData& data, const LoadedModel& model, const EmbedArgs& args,
               const RankPlace& place, ProcessGroup* group, const std::string& base) {
  const std::vector<Part> parts = args.split == "all"
                                      ? std::vector<Part>{Part::kTrain, Part::kVal, Part::kTest}
                                      : std::vector<Part>{part_from_string(args.split)};
  const size_t batch = static_cast<size_t>(EmbedOptions().batch_size);
  Embeddings all{model.options.embed_dim, {}};
  std::vector<std::vector<std::string>> rows;
  for (Part part : parts) {
    const std::vector<size_t> indices = data.indices(part);
    const InputShare share = input_share(indices.size(), batch, place.rank, place.world_size);
    ShareResult mine;
    mine.values = embed_run_images(model, data,
                                   std::vector<size_t>(indices.begin() + share.begin,
                                                       indices.begin() + share.end),
                                   args.tta, place.rank == 0)
                      .embeddings.values;
    const std::vector<float> values = merge_shares(group, std::move(mine)).values;
    all.values.insert(all.values.end(), values.begin(), values.end());
    const std::vector<int> y = data.labels(indices);
    const std::vector<std::string> groups = data.groups(indices);
    for (size_t j = 0; j < indices.size(); ++j)
      rows.push_back({data.images[indices[j]].image_name, std::to_string(y[j]), to_string(part),
                      groups[j]});
  }
  if (place.rank != 0) return;
  write_npy(base + ".npy", all);
  write_csv(base + ".csv", {"image_name", "target", "part", "group"}, rows);
  std::printf("wrote %s.npy (%zu x %d float32) and %s.csv\n", base.c_str(), all.size(), all.dim,
              base.c_str());
}

}  // namespace

void add_embed_command(CLI::App& app, const std::vector<std::string>& argv) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand("embed", "write embeddings of a run's images (.npy + .csv)");
  cmd->add_option("--run", args->run, "trained run folder")->required();
  cmd->add_option("--split", args->split, "train | val | test | all")->capture_default_str()
      ->check(CLI::IsMember({"train", "val", "test", "all"}));
  cmd->add_option("--dir", args->dir, "embed the images of this folder instead of the run's");
  cmd->add_option("--out", args->out, "output path without extension (default RUN/embeddings-SPLIT)");
  cmd->add_option("--fold", args->fold,
                  "a k-fold training (`train --folds`): fold K's network; parts as the fold sees "
                  "them (val = fold K, train = the other folds); default --out RUN/folds/K/embeddings-SPLIT")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--tta", args->tta, "test-time augmentation variants (1-8)")->check(CLI::Range(1, 8));
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  add_rank_options(cmd, args->ranks);
  cmd->callback([args, cmd, argv] {
    const RankPlace place = rank_place_from_environment();
    if (launched_local_ranks(*cmd, args->ranks, place, argv)) return;
    EmbedArgs rank_args = *args;
    rank_args.threads = threads_of_rank(*cmd, args->threads, place);
    rank_args.device = device_of_rank(args->device, place);
    // Writing into the run (the default --out) takes its lock; writing elsewhere only reads it.
    // Rank 0 alone writes.
    std::unique_ptr<RunLock> lock;
    if (args->out.empty() && place.rank == 0) lock = std::make_unique<RunLock>(args->run, "embed");
    const RunData data = args->fold < 0 ? load_run_data(args->run)
                                        : trained_fold(load_run_data(args->run), args->fold);
    LoadedModel model = load_model(data, rank_args.device, rank_args.threads);
    // At the card's precision, so these are the embeddings the card scores (without a card yet:
    // the training precision).
    if (std::filesystem::exists(data.run.model_card()))
      use_card_precision(model, load_model_card(data.run, model.checkpoint_id));
    const std::unique_ptr<ProcessGroup> group = join_inference_ranks(place, args->ranks.dist_timeout);
    if (group && place.rank == 0)
      std::fprintf(stderr, "note: embedding as %d ranks (%s), %d CPU thread(s) each\n",
                   group->size(), group->backend_name().c_str(), rank_args.threads);
    const std::string base =
        !args->out.empty() ? args->out
                           : data.run.root + (args->dir.empty() ? "/embeddings-" + args->split
                                                            : "/embeddings-folder");
    if (args->dir.empty())
      embed_run(data, model, rank_args, place, group.get(), base);
    else
      embed_folder(data, model, rank_args, place, group.get(), base);
  });
}

}  // namespace dermsim::cli
