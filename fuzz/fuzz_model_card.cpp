// Fuzzes the model card reader (RUN/model.json -> load_model_card) on any file contents: a card
// that loads must give a finite threshold and, for an embedding classifier, probabilities in [0, 1]
// on rows of its own dimension (or a UserError when the dimension does not fit).
#include <cmath>

#include "classify/model_card.h"
#include "fuzz_support.h"

namespace {
constexpr const char* kCheckpointId = "0123456789abcdef";  // what the seed cards record
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto run = dermsim::fuzz::scratch_dir();
  dermsim::fuzz::write_bytes(run / "model.json", data, size);
  dermsim::fuzz::expect_only_user_errors([&] {
    const dermsim::ModelCard card = dermsim::load_model_card(dermsim::RunDir{run.string()}, kCheckpointId);
    if (!std::isfinite(card.threshold)) std::abort();
    for (int dim : {2, 16}) {
      dermsim::Embeddings x;
      x.dim = dim;
      x.values.assign(static_cast<size_t>(dim), 0.5f);
      for (double p : dermsim::malignancy_probability(card, x, {0.0}))
        if (!(p >= 0 && p <= 1)) std::abort();
    }
  });
  return 0;
}
