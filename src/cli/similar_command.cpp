// `dermsim similar`: the k most similar known lesions (training split) for one image, with their
// distance, label, diagnosis and patient. The query's own patient is excluded when known.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "classify/neighbours.h"
#include "cli/commands.h"
#include "inference/run_model.h"
#include "inference/run_reference_index.h"
#include "common/error.h"

namespace dermsim::cli {
namespace {

struct SimilarArgs {
  std::string run, image, patient, device = "auto";
  int k = 8, threads = 0;
  bool json = false;
};

void run_similar(const SimilarArgs& args) {
  const RunData data = load_run_data(args.run);
  LoadedModel model = load_model(data, args.device, args.threads);
  use_card_precision(model, load_model_card(data.run, model.checkpoint_id));
  const int size = data.cache.image_size();

  QueryImage query_image = load_query_image(data, args.image);
  const std::string patient = args.patient.empty() ? query_image.patient : args.patient;
  std::vector<const uint8_t*> query_pixels{query_image.image.pixels.data()};

  const ReferenceIndex reference = load_reference_index(data, model);
  const EmbedResult query = embed_pixels(model, query_pixels, size, reference.tta);
  std::vector<Neighbour> neighbours =
      nearest_neighbours(reference.embeddings, query.embeddings.row(0), args.k, &reference.patients,
                         patient.empty() ? nullptr : &patient);

  nlohmann::json out = nlohmann::json::array();
  if (!args.json) {
    std::printf("%d most similar training lesions to %s%s\n", args.k, args.image.c_str(),
                patient.empty() ? " (patient unknown: none excluded)"
                                : (" (patient " + patient + " excluded)").c_str());
    std::printf("%4s  %-16s %8s  %-9s  %-28s %s\n", "rank", "image", "distance", "label",
                "diagnosis", "patient");
  }
  int rank = 0;
  for (const Neighbour& n : neighbours) {
    const auto& r = data.images[data.cache.index_of(reference.names[n.index])];
    const std::string label = r.target == 1 ? "malignant" : "benign";
    if (args.json)
      out.push_back({{"rank", ++rank}, {"image_name", r.image_name}, {"distance", n.distance},
                     {"target", r.target}, {"diagnosis", r.diagnosis}, {"patient_id", r.patient_id},
                     {"image_path", r.image_path}});
    else
      std::printf("%4d  %-16s %8.4f  %-9s  %-28s %s\n", ++rank, r.image_name.c_str(), n.distance,
                  label.c_str(), r.diagnosis.c_str(), r.patient_id.c_str());
  }
  if (args.json) std::printf("%s\n", out.dump(2).c_str());
}

}  // namespace

void add_similar_command(CLI::App& app) {
  auto args = std::make_shared<SimilarArgs>();
  auto* cmd = app.add_subcommand("similar", "the k most similar known lesions for an image");
  cmd->add_option("--run", args->run, "trained run folder")->required();
  cmd->add_option("image", args->image, "image file, or the name of an image of the run")->required();
  cmd->add_option("--k", args->k, "neighbours to list")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--patient", args->patient, "the query's patient id (excluded from the neighbours)");
  cmd->add_flag("--json", args->json, "print the neighbours as JSON");
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0 = one per core)");
  cmd->callback([args] { run_similar(*args); });
}

}  // namespace dermsim::cli
