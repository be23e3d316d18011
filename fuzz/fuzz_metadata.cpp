// Fuzzes metadata loading (load_dataset) on a CSV in the official layout's name, with and without
// labels required. Two image files exist so some rows resolve; others are skipped as missing.
// Input after a line "#duplicates" becomes ISIC_2020_Training_Duplicates.csv beside the CSV.
#include <string>
#include <string_view>

#include "data/metadata.h"
#include "fuzz_support.h"

namespace {

namespace fs = std::filesystem;

const fs::path& dataset_dir() {
  static const fs::path dir = [] {
    const fs::path d = dermsim::fuzz::scratch_dir() / "dataset";
    fs::create_directories(d / "images");
    for (const char* name : {"ISIC_0000000.jpg", "ISIC_0000001.png"})
      dermsim::fuzz::write_bytes(d / "images" / name, nullptr, 0);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator = "\n#duplicates\n";
  const size_t split = input.find(kSeparator);
  const std::string_view metadata = input.substr(0, split);
  const fs::path csv = dataset_dir() / "ISIC_2020_Training_GroundTruth.csv";
  const fs::path duplicates = dataset_dir() / "ISIC_2020_Training_Duplicates.csv";
  dermsim::fuzz::write_bytes(csv, reinterpret_cast<const uint8_t*>(metadata.data()), metadata.size());
  fs::remove(duplicates);
  if (split != std::string_view::npos) {
    const std::string_view rest = input.substr(split + kSeparator.size());
    dermsim::fuzz::write_bytes(duplicates, reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
  }
  for (bool require_labels : {true, false}) {
    dermsim::LoadOptions options;
    options.csv_path = csv.string();
    options.image_dir = (dataset_dir() / "images").string();
    options.skip_missing = true;
    options.require_labels = require_labels;
    dermsim::fuzz::expect_only_user_errors([&] { dermsim::load_dataset(options); });
  }
  return 0;
}
