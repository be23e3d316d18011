// The exponential moving average of a network's weights (Polyak averaging, as timm's ModelEma):
// after every optimiser step average = d * average + (1 - d) * weights, batch-norm statistics
// included. It moves far less between epochs than the weights themselves, so the network that is
// validated and shipped no longer depends on which step an epoch happened to end on.
#pragma once

#include "model/embedding_net.h"

namespace dermsim {

// The decay at `step` (0-based): min(decay, (1 + step) / (10 + step)), so the first steps, whose
// weights are mostly the random start, fade quickly. A pure function of the step: a resumed run
// continues the same average.
double average_decay_at(long step, double decay);

// average <- d * average + (1 - d) * live for every floating parameter and buffer; integer buffers
// (batch-norm's step counter) are copied.
void update_weight_average(EmbeddingNet& average, EmbeddingNet& live, double d);

// to <- from, every parameter and buffer (the same architecture).
void copy_weights(EmbeddingNet& from, EmbeddingNet& to);

}  // namespace dermsim
