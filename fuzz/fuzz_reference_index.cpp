// Fuzzes the reference index reader (decode_reference_index) on arbitrary bytes, twice: as given,
// and with the header's checksum recomputed, so that mutations reach the size checks and the meta
// parser behind the checksum. An index that decodes must hold consistent rows.
#include <cstddef>
#include <cstring>
#include <string>

#include "classify/reference_index.h"
#include "common/hash.h"
#include "fuzz_support.h"

namespace {

constexpr size_t kHeaderBytes = 48, kChecksumOffset = 40;  // IndexHeader's size and checksum field

void decode_and_check(const std::string& bytes) {
  dermsim::fuzz::expect_only_user_errors([&] {
    const dermsim::ReferenceIndex index = dermsim::decode_reference_index(bytes, "fuzz.bin");
    if (index.embeddings.size() != index.size() || index.thumbnails.size() != index.size() ||
        index.map_points.size() != index.size() || index.labels.size() != index.size())
      std::abort();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  decode_and_check(bytes);
  if (bytes.size() >= kHeaderBytes) {
    // The writer hashes meta and blob as two add() calls; their split comes from the header.
    uint64_t meta_bytes = 0;
    std::memcpy(&meta_bytes, bytes.data() + 24, 8);
    const size_t body = bytes.size() - kHeaderBytes;
    if (meta_bytes <= body) {
      dermsim::ContentHash sealed;
      sealed.add(bytes.data(), kChecksumOffset);
      sealed.add(std::string_view(bytes).substr(kHeaderBytes, meta_bytes));
      sealed.add(std::string_view(bytes).substr(kHeaderBytes + meta_bytes));
      const uint64_t checksum = sealed.value();
      std::memcpy(&bytes[kChecksumOffset], &checksum, 8);
      decode_and_check(bytes);
    }
  }
  return 0;
}
