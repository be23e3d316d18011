#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "common/progress.h"
#include "distributed/data_parallel.h"
#include "model/embed.h"
#include "model/precision.h"
#include "train/batches.h"
#include "train/lookalikes.h"
#include "train/losses.h"
#include "train/sampler.h"
#include "train/weight_average.h"

namespace dermsim {

namespace {

constexpr double kPi = 3.14159265358979323846;

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

SamplerOptions sampler_options_of(const TrainOptions& o) {
  SamplerOptions sampler_options;
  sampler_options.classes_per_batch = o.classes_per_batch;
  sampler_options.images_per_class = o.images_per_class;
  sampler_options.benign_fraction_per_epoch = o.benign_fraction;
  sampler_options.seed = o.seed;
  return sampler_options;
}

// The look-alike table for the epoch starting at `step`: empty when mining is off, and before the
// first epoch, whose random weights would only pick random neighbours.
LookalikeTable mine_lookalikes(EmbeddingNet& shipped, const RunData& data, const BatchSource& source,
                               const TrainOptions& o, long step) {
  if (o.lookalike_fraction <= 0 || step == 0) return {};
  EmbedOptions embed_options;
  embed_options.channels_last = o.channels_last;
  embed_options.precision = parse_precision(o.precision);
  const EmbedResult embedded = embed_images(shipped, data.pixels(source.rows), data.cache.image_size(),
                                            source.normalisation, source.device, embed_options);
  return find_lookalikes(embedded.embeddings, source.labels, o.lookalike_neighbours);
}

}  // namespace

long total_training_steps(const RunData& data, const TrainOptions& o) {
  const BalancedBatchSampler sampler(data.labels(data.indices(Part::kTrain)), sampler_options_of(o));
  return sampler.steps_per_epoch() * o.epochs;
}

double learning_rate_at(long step, const TrainSchedule& schedule, const TrainOptions& o) {
  const long total = schedule.total_steps;
  const long warmup = std::max(1L, static_cast<long>(o.warmup_fraction * total));
  if (step < warmup) return o.learning_rate * (step + 1) / warmup;
  const double progress = double(step - warmup) / std::max(1L, total - warmup);
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

BatchOutputs forward_batch(EmbeddingNet& net, const TrainingBatch& batch, const TrainOptions& o) {
  BatchOutputs out;
  out.embeddings = embed_forward(net, batch.images, parse_precision(o.precision));
  if (o.loss == "bce" || o.head_weight > 0) out.logits = net->logit(out.embeddings).reshape({-1});
  out.labels = batch.labels;
  return out;
}

BatchOutputs gather_outputs(ProcessGroup& group, const BatchOutputs& local) {
  BatchOutputs global;
  global.embeddings = all_gather_rows(group, local.embeddings);
  if (local.logits.defined()) global.logits = all_gather_rows(group, local.logits);
  global.labels = all_gather_rows(group, local.labels);
  return global;
}

torch::Tensor training_loss(const BatchOutputs& outputs, const TrainOptions& o) {
  const torch::Tensor& embeddings = outputs.embeddings;
  const torch::Tensor& labels = outputs.labels;
  torch::Tensor head =
      outputs.logits.defined() ? bce_loss(outputs.logits, labels) : torch::Tensor();
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
  } else if (o.loss == "supcon") {
    metric = supervised_contrastive_loss(embeddings, labels, o.temperature);
  } else {
    throw UserError("--loss " + o.loss + ": expected contrastive, triplet, supcon or bce");
  }
  return head.defined() ? metric + o.head_weight * head : metric;
}

EpochStats train_epoch(EmbeddingNet& net, torch::optim::Optimizer& optimizer, BatchLoader& loader,
                       TrainingProgress& progress, long end_step, const TrainSchedule& schedule,
                       const TrainOptions& o, ProgressBar* bar, EmbeddingNet average,
                       ProcessGroup* group) {
  const auto start = std::chrono::steady_clock::now();
  const long epoch_end = (progress.step / schedule.steps_per_epoch + 1) * schedule.steps_per_epoch;
  const long last = std::min(end_step, epoch_end);
  EpochStats stats;
  double loss_sum = 0;
  net->train();
  for (long step = progress.step; step < last; ++step) {
    stats.learning_rate = learning_rate_at(step, schedule, o);
    set_learning_rate(optimizer, stats.learning_rate);
    TrainingBatch batch = loader.next();
    BatchOutputs outputs = forward_batch(net, batch, o);
    if (group) outputs = gather_outputs(*group, outputs);
    torch::Tensor loss = training_loss(outputs, o);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw UserError("step " + std::to_string(step) + ": loss is " + std::to_string(loss_value) +
                      "; stopped. The last checkpoint written is kept; try a lower --lr");
    optimizer.zero_grad();
    loss.backward();
    if (group) all_reduce_gradients(*group, *net);
    optimizer.step();
    if (!average.is_empty()) update_weight_average(average, net, average_decay_at(step, o.ema_decay));
    loss_sum += loss_value;
    ++stats.steps;
    progress.step = step + 1;
    if (bar) {
      char status[96];
      std::snprintf(status, sizeof status, "epoch %ld loss %.4f lr %.2g",
                    step / schedule.steps_per_epoch + 1, loss_sum / stats.steps, stats.learning_rate);
      bar->set_status(status);
      bar->advance();
    }
  }
  stats.mean_loss = loss_sum / std::max(1L, stats.steps);
  stats.seconds = seconds_since(start);
  return stats;
}

TrainSummary train_embedding_net(const RunData& data, TrainingSetup& setup, const Validator& validate,
                                 EpochRecorder& recorder, ProcessGroup* group,
                                 long stop_after_steps) {
  const TrainOptions& o = setup.options;
  const bool writer = group == nullptr || group->rank() == 0;
  TrainingProgress& progress = setup.progress;
  BatchSource source;
  source.cache = &data.cache;
  source.rows = data.indices(Part::kTrain);
  source.labels = data.labels(source.rows);
  const BalancedBatchSampler sampler(source.labels, sampler_options_of(o));
  source.sampler = &sampler;
  source.augment = o.augment;
  source.seed = o.seed;
  source.normalisation = Normalisation{data.mean, data.std};
  source.device = setup.device;
  source.channels_last = o.channels_last;
  if (group) source.positions = rank_positions(o.images_per_class, group->rank(), group->size());
  if (group) broadcast_module(*group, *setup.net);  // one start, whatever each rank loaded
  if (group && !setup.average.is_empty()) broadcast_module(*group, *setup.average);

  const TrainSchedule schedule{sampler.steps_per_epoch(), sampler.steps_per_epoch() * o.epochs};
  const long end_step = stop_after_steps > 0
                            ? std::min(schedule.total_steps, progress.step + stop_after_steps)
                            : schedule.total_steps;
  LookalikeTable lookalikes;
  source.lookalikes = &lookalikes;
  source.lookalike_fraction = o.lookalike_fraction;
  std::unique_ptr<ProgressBar> bar;
  if (writer) {
    bar = std::make_unique<ProgressBar>(setup.progress_label, schedule.total_steps, "step");
    bar->advance(progress.step);
  }
  const auto start = std::chrono::steady_clock::now();
  const double communicated_before = group ? group->seconds_communicating() : 0;
  long images_seen = 0;
  double data_wait_seconds = 0;
  double step_seconds = 0;  // training steps only, without validation and checkpoints
  const long batch_images = static_cast<long>(o.classes_per_batch) * o.images_per_class;
  while (progress.step < end_step) {
    // A loader per epoch: the look-alikes may change between epochs, never while it reads them.
    lookalikes = mine_lookalikes(setup.shipped(), data, source, o, progress.step);
    const long epoch_end = (progress.step / schedule.steps_per_epoch + 1) * schedule.steps_per_epoch;
    BatchLoader loader([&source](long step) { return make_training_batch(source, step); },
                       progress.step, std::min(end_step, epoch_end));
    const EpochStats stats = train_epoch(setup.net, *setup.optimizer, loader, progress, end_step,
                                         schedule, o, bar.get(), setup.average, group);
    data_wait_seconds += loader.seconds_waited();
    images_seen += stats.steps * batch_images;
    step_seconds += stats.seconds;
    if (progress.step % schedule.steps_per_epoch != 0) break;  // stopped inside an epoch
    if (group) average_float_buffers(*group, *setup.net);
    if (group && !setup.average.is_empty()) average_float_buffers(*group, *setup.average);
    if (!writer) continue;
    const ValidationScore score = validate(setup.shipped());
    recorder.record(static_cast<int>(progress.step / schedule.steps_per_epoch), setup, stats, score,
                    stats.steps * batch_images / std::max(1e-9, stats.seconds));
  }
  if (bar) bar->finish();

  TrainSummary summary;
  summary.steps = progress.step;
  summary.epochs = static_cast<int>(progress.step / schedule.steps_per_epoch);
  summary.finished = progress.step >= schedule.total_steps;
  summary.best_val_auc = progress.best_score;
  summary.best_epoch = static_cast<int>(progress.best_step / schedule.steps_per_epoch);
  summary.seconds = seconds_since(start);
  summary.images_per_second = images_seen / std::max(1e-9, summary.seconds);
  summary.data_wait_fraction = data_wait_seconds / std::max(1e-9, summary.seconds);
  if (group)
    summary.communication_fraction =
        (group->seconds_communicating() - communicated_before) / std::max(1e-9, step_seconds);
  return summary;
}

}  // namespace dermsim
