// The provenance chain of a run folder. Every artefact records the identity (content hash) of each
// input it was made from, by file name:
//   manifest.json  <- images.csv, split.csv, cache.bin   (what prepare wrote)
//   train.json, checkpoint-*.pt <- split.csv, cache.bin
//   model.json, metrics-*.json  <- checkpoint-best.pt
// Before a command uses an artefact it compares the recorded identities with the current files and
// refuses, naming the stale file and the command that rebuilds it. So a new split under old
// checkpoints, or a new network under an old classifier, is never silently mixed.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace dermsim {

// Input file name (inside the run folder) -> its identity when the artefact was made.
using MadeFrom = std::map<std::string, std::string>;

inline nlohmann::json to_json(const MadeFrom& made_from) { return nlohmann::json(made_from); }

// Throws UserError when `artefact` (a path, for the message) recorded `recorded` ("made_from", a
// JSON object) that lacks one of `current`'s inputs or names another identity for it:
//   "RUN/model.json is stale: made from another checkpoint-best.pt; run `dermsim evaluate --run RUN`"
void require_made_from(const std::string& artefact, const nlohmann::json& recorded,
                       const MadeFrom& current, const std::string& remedy);

}  // namespace dermsim
