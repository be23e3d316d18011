#include "common/provenance.h"

#include "common/error.h"

namespace dermsim {

void require_made_from(const std::string& artefact, const nlohmann::json& recorded,
                       const MadeFrom& current, const std::string& remedy) {
  for (const auto& [input, identity] : current) {
    const bool known = recorded.is_object() && recorded.contains(input) && recorded[input].is_string();
    if (!known)
      throw UserError(artefact + " records no identity of " + input +
                      " (made by an older dermsim, or edited); " + remedy);
    if (recorded[input].get<std::string>() != identity)
      throw UserError(artefact + " is stale: made from another " + input + "; " + remedy);
  }
}

}  // namespace dermsim
