// Base64 encoding and strict decoding (see base64.h).
#include "common/base64.h"

#include <array>
#include <cstdint>

#include "common/error.h"

namespace dermsim {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kNotBase64 = -1;

// Character -> 6-bit value, kNotBase64 for everything outside the alphabet ('=' included).
constexpr std::array<int8_t, 256> decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kNotBase64;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t left = bytes.size() - i;
    uint32_t chunk = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (left > 1) chunk |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    if (left > 2) chunk |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += left > 1 ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += left > 2 ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

std::string base64_decode(std::string_view text, const std::string& what) {
  static constexpr std::array<int8_t, 256> kTable = decode_table();
  auto bad = [&](const std::string& why) { return UserError(what + ": " + why); };
  if (text.size() % 4 != 0) throw bad("base64 length is not a multiple of 4");
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t chunk = 0;
    int padding = 0;
    for (size_t c = 0; c < 4; ++c) {
      const char ch = text[i + c];
      uint32_t v = 0;
      if (ch == '=' && i + 4 == text.size() && c >= 2) {
        ++padding;
      } else if (padding > 0) {
        throw bad("base64 data after padding");
      } else {
        const int8_t decoded = kTable[static_cast<uint8_t>(ch)];
        if (decoded == kNotBase64)
          throw bad("invalid base64 character at offset " + std::to_string(i + c));
        v = static_cast<uint32_t>(decoded);
      }
      chunk = (chunk << 6) | v;
    }
    bytes += static_cast<char>(chunk >> 16);
    if (padding < 2) bytes += static_cast<char>((chunk >> 8) & 0xff);
    if (padding < 1) bytes += static_cast<char>(chunk & 0xff);
  }
  return bytes;
}

}  // namespace dermsim
