// FNV-1a 64-bit: a fast, dependency-free checksum for "did the inputs change?" questions
// (cache invalidation, the dataset checksum in the manifest). Not for security.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dermsim {

class Fnv1a {
 public:
  void add(const void* data, size_t bytes) {
    auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i) { state_ ^= p[i]; state_ *= 0x100000001b3ULL; }
  }
  void add(std::string_view text) { add(text.data(), text.size()); }
  void add_u64(uint64_t value) { add(&value, sizeof value); }
  uint64_t value() const { return state_; }
  std::string hex() const;

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

inline std::string Fnv1a::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = digits[(state_ >> (4 * i)) & 0xf];
  return out;
}

}  // namespace dermsim
