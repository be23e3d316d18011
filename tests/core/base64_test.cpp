// base64: the RFC 4648 section 10 test vectors both ways, every byte value through a round trip, and
// bad text rejected with a UserError that names its source.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

using testing::error_of;

TEST(Base64, Rfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base64_encode(bytes), text) << bytes;
    EXPECT_EQ(base64_decode(text, "vector"), bytes) << text;
  }
}

TEST(Base64, RoundTripsEveryByteValueAtEveryPaddingLength) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xbf", 3)), "+/+/");  // the two non-alphanumerics
  for (size_t length : {all.size(), all.size() - 1, all.size() - 2}) {
    const std::string bytes = all.substr(0, length);
    const std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    EXPECT_EQ(base64_decode(text, "round trip"), bytes) << length;
  }
}

TEST(Base64, BadTextIsAUserErrorNamingTheSource) {
  const std::vector<std::string> bad = {
      "Zm9",                    // length not a multiple of 4
      "Zm9*", "Zm 9", std::string("Zm\0v", 4),  // outside the alphabet
      "Zg=a", "Z===",           // misplaced padding
      "Zg==Zm9v",               // padding before the end
  };
  for (const std::string& text : bad) {
    const std::string message = error_of([&] { base64_decode(text, "f.json: field 'x'"); });
    EXPECT_EQ(message.rfind("f.json: field 'x': ", 0), 0u) << "'" << text << "': " << message;
  }
  EXPECT_NE(error_of([] { base64_decode("Zm9*", "x"); }).find("invalid base64 character at offset 3"),
            std::string::npos);
}

}  // namespace
}  // namespace dermsim
