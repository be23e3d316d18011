// Data-parallel training over c10d/Gloo on 127.0.0.1, ranks as threads of this test: the
// collectives, the bucketed gradient all-reduce, and 2 ranks against 1 rank through the real
// train_epoch (see TwoRanksTrainLikeOneAtTheSameGlobalBatch for exactly what is compared).
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "common/error.h"
#include "distributed/data_parallel.h"
#include "distributed/local_ranks.h"
#include "distributed/sharded_inference.h"
#include "support/test_support.h"
#include "train/sampler.h"
#include "train/trainer.h"

namespace dermsim {
namespace {

using std::chrono::milliseconds;

// Runs fn(rank, group) for every rank at once, each on its own thread with its own ProcessGroup.
void on_ranks(int world_size, const std::function<void(int, ProcessGroup&)>& fn,
              milliseconds timeout = milliseconds(20000)) {
  const int port = free_local_port();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(world_size));
  for (int rank = 0; rank < world_size; ++rank)
    threads.emplace_back([&, rank] {
      try {
        RankPlace place;
        place.rank = rank;
        place.world_size = place.local_world_size = world_size;
        place.local_rank = rank;
        place.master_port = port;
        ProcessGroup group(place, torch::kCPU, timeout);
        fn(rank, group);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(rank)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < world_size; ++rank)
    EXPECT_EQ(errors[static_cast<size_t>(rank)], "") << "rank " << rank;
}

TEST(Distributed, InputSharesAreWholeBlocksInOrderCoveringEveryInputOnce) {
  for (size_t count : {0, 1, 63, 64, 65, 300, 301, 1100})
    for (int world : {1, 2, 3, 7}) {
      size_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const InputShare share = input_share(count, 64, rank, world);
        EXPECT_EQ(share.begin, next) << count << " inputs, rank " << rank << " of " << world;
        EXPECT_LE(share.begin, share.end);
        EXPECT_TRUE(share.begin % 64 == 0 || share.begin == count) << share.begin;
        next = share.end;
      }
      EXPECT_EQ(next, count) << count << " inputs, " << world << " ranks";
    }
  // As even as whole blocks allow: the shipped ISIC sample (1,100 images) in blocks of 256.
  EXPECT_EQ(input_share(1100, 256, 0, 2).end, 512u);
  // Fewer blocks than ranks: the later ranks take them, rank 0 (which writes) has none.
  EXPECT_EQ(input_share(1, 256, 0, 2).end, 0u);
  EXPECT_EQ(input_share(1, 256, 1, 2).end, 1u);
}

TEST(Distributed, MergedSharesAreEveryRanksResultInRankOrder) {
  on_ranks(3, [](int rank, ProcessGroup& group) {
    ShareResult mine;  // rank 0: nothing; rank 1: one row; rank 2: two rows
    for (int i = 0; i < rank; ++i) {
      mine.rows.push_back({std::to_string(rank), std::string("\xff\0name", 6) + std::to_string(i)});
      mine.values.push_back(static_cast<float>(rank) + 0.25f * static_cast<float>(i));
    }
    if (rank == 1) mine.skipped.push_back("x.jpg: not a JPEG");
    mine.count = 10 * rank;
    const ShareResult all = merge_shares(&group, mine);
    ASSERT_EQ(all.rows.size(), 3u);
    EXPECT_EQ(all.rows[0], (std::vector<std::string>{"1", std::string("\xff\0name0", 7)}));
    EXPECT_EQ(all.rows[2], (std::vector<std::string>{"2", std::string("\xff\0name1", 7)}));
    EXPECT_EQ(all.values, (std::vector<float>{1.0f, 2.0f, 2.25f}));
    EXPECT_EQ(all.skipped, std::vector<std::string>{"x.jpg: not a JPEG"});
    EXPECT_EQ(all.count, 30);
  });
}

TEST(Distributed, CollectivesSumBroadcastAndGatherInRankOrder) {
  on_ranks(3, [](int rank, ProcessGroup& group) {
    std::vector<torch::Tensor> sums{torch::full({5}, double(rank + 1)), torch::arange(3) * rank};
    group.all_reduce_sum(sums);
    EXPECT_TRUE(torch::equal(sums[0], torch::full({5}, 6.0)));
    EXPECT_TRUE(torch::equal(sums[1], torch::arange(3) * 3));
    std::vector<torch::Tensor> from_one{torch::full({2, 2}, float(rank))};
    group.broadcast(from_one, /*root=*/1);
    EXPECT_TRUE(torch::equal(from_one[0], torch::full({2, 2}, 1.0f)));
    // Gathered rows: every rank's, in rank order; the gradient reaches this rank's rows only.
    torch::Tensor local = torch::full({2, 3}, float(rank)).requires_grad_();
    torch::Tensor all = all_gather_rows(group, local);
    ASSERT_EQ(all.size(0), 6);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(all[2 * r][0].item<float>(), float(r));
    (all * torch::arange(6).unsqueeze(1)).sum().backward();
    EXPECT_TRUE(torch::equal(
        local.grad(), torch::tensor({2.0f * rank, 2.0f * rank + 1}).unsqueeze(1).expand({2, 3})));
  });
}

TEST(Distributed, BucketedAllReduceSumsEveryTensorWhateverTheBucketSize) {
  // Tensors of several sizes, one channels_last and one undefined (skipped), in buckets from
  // smaller than any tensor to one for all.
  for (int64_t bucket_bytes : {int64_t{16}, int64_t{200}, kDefaultBucketBytes}) {
    on_ranks(2, [bucket_bytes](int rank, ProcessGroup& group) {
      // Values from the rank alone, not the global RNG: the ranks are threads of one process.
      const float scale = rank + 1.0f;
      std::vector<torch::Tensor> tensors{
          torch::arange(3, torch::kFloat) * scale + 0.25f,
          (torch::arange(120, torch::kFloat).reshape({2, 3, 4, 5}) * scale)
              .contiguous(torch::MemoryFormat::ChannelsLast),
          torch::Tensor(), torch::arange(40, torch::kFloat) * scale - 1.0f};
      // The sum over ranks 1 and 2 of the scales is 3.
      std::vector<torch::Tensor> expected{torch::arange(3, torch::kFloat) * 3 + 0.5f,
                                          torch::arange(120, torch::kFloat).reshape({2, 3, 4, 5}) * 3,
                                          torch::arange(40, torch::kFloat) * 3 - 2.0f};
      all_reduce_sum_bucketed(group, tensors, bucket_bytes);
      EXPECT_TRUE(torch::allclose(tensors[0], expected[0]));
      EXPECT_TRUE(torch::allclose(tensors[1], expected[1]));
      EXPECT_TRUE(tensors[1].is_contiguous(torch::MemoryFormat::ChannelsLast));
      EXPECT_FALSE(tensors[2].defined());
      EXPECT_TRUE(torch::allclose(tensors[3], expected[2]));
    });
  }
}

TEST(Distributed, RankPositionsSplitEachClassEvenly) {
  EXPECT_EQ(rank_positions(4, 0, 2), (std::vector<size_t>{0, 1, 4, 5}));
  EXPECT_EQ(rank_positions(4, 1, 2), (std::vector<size_t>{2, 3, 6, 7}));
  EXPECT_EQ(rank_positions(4, 0, 1), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_NE(
      testing::error_of([] { rank_positions(6, 0, 4); }).find("--images-per-class 6 with 4 ranks"),
      std::string::npos);
}

TEST(Distributed, ARankThatNeverComesOrLeavesIsAnErrorNotAHang) {
  RankPlace alone;
  alone.rank = 1;
  alone.world_size = alone.local_world_size = 2;
  alone.master_port = free_local_port();
  const std::string never =
      testing::error_of([&] { ProcessGroup(alone, torch::kCPU, milliseconds(1000)); });
  EXPECT_NE(never.find("rank 1 of 2: the ranks did not all meet"), std::string::npos) << never;

  std::string left;
  on_ranks(
      2,
      [&](int rank, ProcessGroup& group) {
        if (rank == 1) return;  // leaves: its group is destroyed, its connections close
        std::vector<torch::Tensor> t{torch::ones({4})};
        left = testing::error_of([&] {
          for (int i = 0; i < 100; ++i) group.all_reduce_sum(t);
        });
      },
      milliseconds(5000));
  EXPECT_NE(left.find("rank 0 of 2: lost the other ranks during all-reduce"), std::string::npos)
      << left;
}

// One step's gradient, before any optimizer: each of 2 ranks on its half of the global batch
// (the halves repeat, so batch-norm statistics agree; see the test below), the loss over the
// gathered rows, the gradients summed, against 1 rank on the whole batch. Every loss the trainer
// offers must give the global batch's gradient up to float rounding. Measured on an AMD EPYC host:
// every loss within 2.6e-6 to 3.7e-6 of its largest gradient (supcon's included); the loss of each
// rank's own rows without the gathered ones is off by 0.5 to 2.5 of it, and a mean over the ranks
// instead of the sum by 0.5.
TEST(Distributed, GatheredLossGivesTheGlobalBatchGradientForEveryLoss) {
  struct Case {
    std::string loss;
    double head_weight;
  };
  for (const Case& c : {Case{"contrastive", 0.5}, Case{"supcon", 0.0}, Case{"supcon", 1.0},
                        Case{"triplet", 0.0}, Case{"bce", 0.0}}) {
    SCOPED_TRACE(c.loss + " head " + std::to_string(c.head_weight));
    TrainOptions o;
    o.embed_dim = 8;
    o.images_per_class = 4;
    o.loss = c.loss;
    o.head_weight = c.head_weight;
    o.augment.enabled = false;
    o.channels_last = false;
    torch::manual_seed(11);
    const torch::Tensor half = torch::randn({4, 3, 64, 64});  // b0 b1 m0 m1
    TrainingBatch global;
    global.images = torch::cat(
        {half.slice(0, 0, 2), half.slice(0, 0, 2), half.slice(0, 2, 4), half.slice(0, 2, 4)});
    global.labels = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong);
    auto gradients = [](EmbeddingNet& net) {
      std::vector<torch::Tensor> out;
      for (const auto& p : net->parameters())
        out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
      return out;
    };
    auto make_net = [&] {
      torch::manual_seed(5);  // the same start on every copy, without a broadcast
      return make_untrained_net(o, torch::kCPU);
    };
    EmbeddingNet single = make_net();
    single->train();
    const torch::Tensor single_loss = training_loss(forward_batch(single, global, o), o);
    single_loss.backward();
    const std::vector<torch::Tensor> expected = gradients(single);

    std::vector<EmbeddingNet> ranks{make_net(), make_net()};
    std::vector<double> rank_loss(2);
    std::vector<std::vector<torch::Tensor>> rank_gradients(2);
    on_ranks(2, [&](int rank, ProcessGroup& group) {
      EmbeddingNet& net = ranks[size_t(rank)];
      net->train();
      const std::vector<size_t> mine = rank_positions(4, rank, 2);
      const torch::Tensor index = torch::tensor(std::vector<int64_t>(mine.begin(), mine.end()));
      TrainingBatch local;
      local.images = global.images.index_select(0, index);
      local.labels = global.labels.index_select(0, index);
      const BatchOutputs all = gather_outputs(group, forward_batch(net, local, o));
      const torch::Tensor loss = training_loss(all, o);
      loss.backward();
      all_reduce_gradients(group, *net);
      rank_loss[size_t(rank)] = loss.item<double>();
      rank_gradients[size_t(rank)] = gradients(net);
    });
    EXPECT_NEAR(rank_loss[0], single_loss.item<double>(), 1e-5);
    double scale = 0, worst = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      scale = std::max(scale, expected[i].abs().max().item<double>());
      for (int rank = 0; rank < 2; ++rank)
        worst = std::max(worst, (rank_gradients[size_t(rank)][i] - expected[i]).abs().max().item<double>());
    }
    EXPECT_GT(scale, 0.0) << "the loss has a gradient";
    EXPECT_LT(worst, 1e-4 * scale) << "largest gradient difference " << worst << " of " << scale;
  }
}

// What is compared: the parameters after 3 steps of train_epoch (AdamW, contrastive loss with a
// joint BCE head, no augmentation), 1 rank on the global batch of 8 images against each of 2 ranks
// on its 4, rank 1 starting from other weights until rank 0's are broadcast. Batch-norm uses the
// statistics of each rank's own images in training, so for the maths to be equal the global batch
// repeats each half: rank 0's and rank 1's images are the same four, and their batch statistics
// are those of the global batch. Cross-rank pairs (all-gather), the summed gradients and the
// broadcast are all needed for the 1e-4 agreement: averaging the gradients instead of summing them
// moves a weight by 1.1e-3 (a loss without the gathered rows was measured at ~1e-3 too). Rounding
// alone (another summation order) moves one by 2.1e-5 on an AMD EPYC host (under 1e-5 on the host
// this was first measured on): AdamW divides by sqrt(v), so a weight whose gradient is near zero
// turns rounding into a step of up to the learning rate. With --loss supcon the weights differ by
// 1.6e-4 here although its one-step gradient agrees to rounding (the test above): that amplified
// rounding is why this test keeps the contrastive loss, and the test above covers every loss.
TEST(Distributed, TwoRanksTrainLikeOneAtTheSameGlobalBatch) {
  TrainOptions o;
  o.embed_dim = 8;
  o.images_per_class = 4;
  o.head_weight = 0.5;
  o.augment.enabled = false;
  o.channels_last = false;
  constexpr long kSteps = 3;
  std::vector<TrainingBatch> global;
  torch::manual_seed(7);
  for (long step = 0; step < kSteps; ++step) {
    const torch::Tensor half = torch::randn({4, 3, 64, 64});  // b0 b1 m0 m1
    TrainingBatch b;
    b.step = step;
    b.images = torch::cat(
        {half.slice(0, 0, 2), half.slice(0, 0, 2), half.slice(0, 2, 4), half.slice(0, 2, 4)});
    b.labels = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong);
    global.push_back(b);
  }
  const TrainSchedule schedule{kSteps, kSteps};
  auto train = [&](EmbeddingNet& net, const std::vector<size_t>& positions, ProcessGroup* group) {
    auto optimizer = make_optimizer(net, o);
    const torch::Tensor index =
        torch::tensor(std::vector<int64_t>(positions.begin(), positions.end()));
    BatchLoader loader(
        [&](long step) {
          TrainingBatch b = global[size_t(step)];
          b.images = b.images.index_select(0, index);
          b.labels = b.labels.index_select(0, index);
          return b;
        },
        0, kSteps);
    TrainingProgress progress;
    return train_epoch(net, *optimizer, loader, progress, kSteps, schedule, o, nullptr,
                       /*average=*/EmbeddingNet(nullptr), group);
  };

  EmbeddingNet single = make_untrained_net(o, torch::kCPU);
  const EpochStats single_stats = train(single, rank_positions(4, 0, 1), nullptr);
  // Made here, not on the rank threads: the initialisation draws from torch's global generator.
  TrainOptions other_seed = o;
  other_seed.seed = 99;
  std::vector<EmbeddingNet> ranks{make_untrained_net(o, torch::kCPU),
                                  make_untrained_net(other_seed, torch::kCPU)};
  std::vector<EpochStats> rank_stats(2);
  on_ranks(2, [&](int rank, ProcessGroup& group) {
    EmbeddingNet& net = ranks[size_t(rank)];
    broadcast_module(group, *net);
    rank_stats[size_t(rank)] = train(net, rank_positions(4, rank, 2), &group);
  });
  EXPECT_NEAR(rank_stats[0].mean_loss, single_stats.mean_loss, 1e-5);
  EXPECT_EQ(rank_stats[0].mean_loss, rank_stats[1].mean_loss);
  const auto one = single->named_parameters();
  const auto zero = ranks[0]->named_parameters(), other = ranks[1]->named_parameters();
  double worst = 0;
  for (const auto& p : one) {
    worst = std::max(worst, (zero[p.key()] - p.value()).abs().max().item<double>());
    EXPECT_TRUE(torch::equal(zero[p.key()], other[p.key()])) << p.key() << ": ranks differ";
  }
  EXPECT_LT(worst, 1e-4) << "largest weight difference, 2 ranks against 1";
  EXPECT_GT(
      (one["embed.weight"] - make_untrained_net(o, torch::kCPU)->named_parameters()["embed.weight"])
          .abs()
          .max()
          .item<double>(),
      1e-4)
      << "training moved the weights";
}

}  // namespace
}  // namespace dermsim
