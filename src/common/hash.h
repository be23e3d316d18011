// ContentHash: the one 64-bit checksum of dermsim, for "is this the same content?" questions: the
// identity of every run artefact (provenance chain), the per-image checksums of the image cache and
// the cache's source checksum. Not for security.
//
// Word-wise (8 bytes a multiply) so that verifying a 1.6 GB cache costs a fraction of a second.
// Each step is a bijection of the state for a fixed input word, so changing any one word of the
// input always changes the hash. The hash of a sequence of add() calls depends on where the calls
// split the bytes; every caller hashes the same fields in the same calls.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dermsim {

class ContentHash {
 public:
  void add(const void* data, size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      mix(word);
    }
    uint64_t tail = 0;
    if (bytes > i) std::memcpy(&tail, p + i, bytes - i);
    mix(tail ^ (uint64_t{bytes - i} << 56));  // the tail length, so "a" and "a\0" differ
  }
  void add(std::string_view text) { add(text.data(), text.size()); }
  void add_u64(uint64_t value) { mix(value); }
  uint64_t value() const { return state_; }
  std::string hex() const;

 private:
  void mix(uint64_t word) {
    state_ = (state_ ^ word) * 0x9e3779b97f4a7c15ULL;
    state_ ^= state_ >> 29;
  }
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

inline std::string hex64(uint64_t value) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = digits[(value >> (4 * i)) & 0xf];
  return out;
}

inline std::string ContentHash::hex() const { return hex64(state_); }

// The hash of one block of bytes, as hex: the identity of a file's content.
inline std::string content_hash_hex(std::string_view bytes) {
  ContentHash hash;
  hash.add(bytes);
  return hash.hex();
}

}  // namespace dermsim
