#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "augment/augment.h"
#include "augment/counter_rng.h"
#include "classify/knn.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/progress.h"
#include "image/run_data.h"
#include "metrics/ranking.h"
#include "model/device.h"
#include "model/embed.h"
#include "train/batch_loader.h"
#include "train/checkpoint.h"
#include "train/losses.h"
#include "train/sampler.h"

namespace dermsim {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kValidationNeighbours = 11;  // kNN used for the per-epoch validation score

// Linear warm-up, then cosine decay to 1 % of the peak: a pure function of the step, so a resumed
// run needs no scheduler state.
double learning_rate_at(long step, long total_steps, const TrainOptions& o) {
  const long warmup = std::max(1L, static_cast<long>(o.warmup_fraction * total_steps));
  if (step < warmup) return o.learning_rate * (step + 1) / warmup;
  const double progress = double(step - warmup) / std::max(1L, total_steps - warmup);
  return o.learning_rate * (0.01 + 0.99 * 0.5 * (1 + std::cos(kPi * std::min(1.0, progress))));
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(EmbeddingNet& net, const TrainOptions& o) {
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        net->parameters(), torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        net->parameters(),
        torch::optim::SGDOptions(o.learning_rate).momentum(0.9).nesterov(true).weight_decay(o.weight_decay));
  throw UserError("--optimizer " + o.optimizer + ": expected adamw or sgd");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

torch::Tensor training_loss(EmbeddingNet& net, const torch::Tensor& embeddings,
                            const torch::Tensor& labels, const TrainOptions& o) {
  torch::Tensor head = o.loss == "bce" || o.head_weight > 0
                           ? bce_loss(net->logit(embeddings).reshape({-1}), labels)
                           : torch::Tensor();
  if (o.loss == "bce") return head;
  torch::Tensor metric;
  if (o.loss == "contrastive") {
    ContrastiveOptions c;
    c.margin = effective_margin(o);
    metric = contrastive_loss(embeddings, labels, c);
  } else if (o.loss == "triplet") {
    TripletOptions t;
    t.margin = effective_margin(o);
    t.mining = parse_mining(o.mining);
    metric = triplet_loss(embeddings, labels, t);
  } else {
    throw UserError("--loss " + o.loss + ": expected contrastive, triplet or bce");
  }
  return head.defined() ? metric + o.head_weight * head : metric;
}

// Convolution weights in channels_last, as PyTorch's model.to(memory_format=...) does.
void to_channels_last(EmbeddingNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

struct ValidationScore {
  double auc = NAN, pauc = NAN;
};

ValidationScore validate(EmbeddingNet& net, const RunData& data,
                         const std::vector<size_t>& reference, const std::vector<size_t>& val,
                         const Normalisation& norm, const torch::Device& device, bool channels_last) {
  EmbedOptions embed_options;
  embed_options.channels_last = channels_last;
  const int size = data.cache.image_size();
  EmbedResult ref = embed_images(net, data.pixels(reference), size, norm, device, embed_options);
  EmbedResult queries = embed_images(net, data.pixels(val), size, norm, device, embed_options);
  KnnClassifier knn(kValidationNeighbours);
  knn.fit(ref.embeddings, data.labels(reference));
  std::vector<double> scores = knn.predict_proba(queries.embeddings);
  std::vector<int> y = data.labels(val);
  ValidationScore score;
  const int positives = static_cast<int>(std::count(y.begin(), y.end(), 1));
  if (positives == 0 || positives == static_cast<int>(y.size())) return score;
  score.auc = roc_auc(y, scores);
  score.pauc = partial_auc_above_tpr(y, scores, 0.8);
  return score;
}

void write_training_log(const RunDir& run, const nlohmann::json& history) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : history)
    rows.push_back({e["epoch"].dump(), e["step"].dump(), e["train_loss"].dump(),
                    e["val_auc"].dump(), e["val_pauc"].dump(), e["learning_rate"].dump(),
                    e["images_per_second"].dump()});
  write_csv(run.training_log(),
            {"epoch", "step", "train_loss", "val_auc", "val_pauc", "learning_rate",
             "images_per_second"},
            rows);
}

}  // namespace

TrainSummary train_embedding_net(const std::string& run_root, const TrainOptions& requested,
                                 bool resume, long stop_after_steps) {
  RunData data = load_run_data(run_root);
  const RunDir& run = data.run;
  const bool resuming = resume && std::filesystem::exists(run.checkpoint_last());
  if (resume && !resuming)
    std::fprintf(stderr, "note: %s has no checkpoint-last.pt: starting from scratch\n",
                 run_root.c_str());
  TrainOptions o = resuming ? train_options_from_json(read_json_file(run.train_config())) : requested;
  if (!resuming) {
    // train.json: the options (read back on resume) plus the provenance of this training run.
    nlohmann::json config = to_json(o);
    config["provenance"] = build_info();
    config["provenance"]["libtorch"] = TORCH_VERSION;
    config["provenance"]["data_csv_fnv1a"] = data.manifest["data"].value("csv_fnv1a", "");
    config["provenance"]["cache_checksum"] = data.manifest["cache"].value("source_checksum", 0ULL);
    write_json_file(run.train_config(), config);
  }

  configure_cpu_threads(o.threads);
  const torch::Device device = resolve_device(o.device);
  const bool channels_last = o.channels_last;
  Normalisation norm{data.mean, data.std};

  const std::vector<size_t> train = data.indices(Part::kTrain);
  const std::vector<size_t> val = data.indices(Part::kVal);
  if (train.empty()) throw UserError(run_root + "/split.csv: no training images");
  const std::vector<int> train_labels = data.labels(train);

  // A fixed subset of training images (every n-th) is the kNN reference for per-epoch validation.
  std::vector<size_t> reference;
  const size_t stride = 1 + train.size() / std::max(1, o.validation_reference_images);
  for (size_t i = 0; i < train.size(); i += stride) reference.push_back(train[i]);

  EmbeddingNet net = make_untrained_net(o, device);
  if (channels_last) to_channels_last(net);
  auto optimizer = make_optimizer(net, o);

  SamplerOptions sampler_options;
  sampler_options.classes_per_batch = o.classes_per_batch;
  sampler_options.images_per_class = o.images_per_class;
  sampler_options.benign_fraction_per_epoch = o.benign_fraction;
  sampler_options.seed = o.seed;
  BalancedBatchSampler sampler(train_labels, sampler_options);
  const long steps_per_epoch = sampler.steps_per_epoch();
  const long total_steps = steps_per_epoch * o.epochs;

  TrainingProgress progress;
  if (resuming) {
    progress = load_checkpoint(run.checkpoint_last(), net, optimizer.get());
    std::fprintf(stderr, "resuming %s at step %ld of %ld\n", run_root.c_str(), progress.step,
                 total_steps);
  }

  const int image_size = data.cache.image_size();
  auto make_batch = [&](long step) {
    std::vector<size_t> picks = sampler.batch(step);
    std::vector<const uint8_t*> pixels;
    std::vector<int64_t> labels;
    for (size_t p : picks) {
      pixels.push_back(data.cache.image(train[p]));
      labels.push_back(train_labels[p]);
    }
    TrainingBatch batch;
    batch.step = step;
    torch::Tensor images = to_float_batch(pixels.data(), static_cast<int>(pixels.size()), image_size, image_size);
    if (device.is_cuda()) images = images.to(device);  // augment where the model runs
    images = augment_batch(images, o.augment, derive_seed(o.seed, static_cast<uint64_t>(step)));
    images = normalize(images, norm.mean, norm.std);
    if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    batch.images = images.to(device);
    batch.labels = torch::tensor(labels, torch::kLong).to(device);
    return batch;
  };

  const long end_step = stop_after_steps > 0 ? std::min(total_steps, progress.step + stop_after_steps)
                                             : total_steps;
  BatchLoader loader(make_batch, progress.step, end_step);
  ProgressBar bar("train", total_steps, "step");
  bar.advance(progress.step);
  const auto start = std::chrono::steady_clock::now();
  auto epoch_start = start;
  double epoch_loss = 0;
  long epoch_steps = 0, images_seen = 0;
  const long batch_images = static_cast<long>(o.classes_per_batch) * o.images_per_class;

  for (long step = progress.step; step < end_step; ++step) {
    const double lr = learning_rate_at(step, total_steps, o);
    set_learning_rate(*optimizer, lr);
    TrainingBatch batch = loader.next();
    net->train();
    torch::Tensor embeddings = net->forward(batch.images);
    torch::Tensor loss = training_loss(net, embeddings, batch.labels, o);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw UserError("step " + std::to_string(step) + ": loss is " + std::to_string(loss_value) +
                      "; stopped. The last good checkpoint is kept in " + run.checkpoint_last() +
                      "; try a lower --lr");
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    epoch_loss += loss_value;
    ++epoch_steps;
    images_seen += batch_images;
    progress.step = step + 1;
    char status[96];
    std::snprintf(status, sizeof status, "epoch %ld loss %.4f lr %.2g",
                  step / steps_per_epoch + 1, epoch_loss / epoch_steps, lr);
    bar.set_status(status);
    bar.advance();

    if (progress.step % steps_per_epoch == 0) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      ValidationScore score = validate(net, data, reference, val, norm, device, channels_last);
      const int epoch = static_cast<int>(progress.step / steps_per_epoch);
      progress.history.push_back({{"epoch", epoch},
                                  {"step", progress.step},
                                  {"train_loss", epoch_loss / std::max(1L, epoch_steps)},
                                  {"val_auc", std::isnan(score.auc) ? nlohmann::json() : nlohmann::json(score.auc)},
                                  {"val_pauc", std::isnan(score.pauc) ? nlohmann::json() : nlohmann::json(score.pauc)},
                                  {"learning_rate", lr},
                                  {"images_per_second", epoch_steps * batch_images / std::max(1e-9, seconds)}});
      const bool best = !std::isnan(score.auc) && score.auc > progress.best_score;
      if (best) {
        progress.best_score = score.auc;
        progress.best_step = progress.step;
      }
      // Best by validation AUC rather than pAUC: with a few dozen malignant validation images the
      // pAUC (which looks only at the top 20 % of sensitivity) varies far more between epochs.
      if (best || !std::filesystem::exists(run.checkpoint_best()))
        save_checkpoint(run.checkpoint_best(), net, *optimizer, progress, o);
      save_checkpoint(run.checkpoint_last(), net, *optimizer, progress, o);
      write_training_log(run, progress.history);
      std::fprintf(stderr, "%sepoch %d: loss %.4f  val AUC %.4f  pAUC %.4f%s\n",
                   isatty(2) ? "\r\033[K" : "", epoch, epoch_loss / std::max(1L, epoch_steps),
                   score.auc, score.pauc, best ? "  (best)" : "");
      epoch_loss = 0;
      epoch_steps = 0;
      epoch_start = std::chrono::steady_clock::now();
    }
  }
  bar.finish();

  TrainSummary summary;
  summary.steps = progress.step;
  summary.epochs = static_cast<int>(progress.step / steps_per_epoch);
  summary.best_val_auc = progress.best_score;
  summary.best_epoch = static_cast<int>(progress.best_step / steps_per_epoch);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.images_per_second = images_seen / std::max(1e-9, summary.seconds);
  summary.data_wait_fraction = loader.seconds_waited() / std::max(1e-9, summary.seconds);
  return summary;
}

}  // namespace dermsim
