// The reference index file: exact round trip, and every damaged or foreign byte refused.
#include <gtest/gtest.h>

#include <cstring>

#include "classify/reference_index.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

ReferenceIndex small_index() {
  ReferenceIndex index;
  index.embeddings = Embeddings{3, {0.1f, 0.2f, 0.3f, -1.0f, 0.5f, 0.25f}};
  index.names = {"ISIC_1", "ISIC_2"};
  index.patients = {"IP_1", "IP_2"};
  index.labels = {0, 1};
  index.thumbnails = {std::string("\xff\xd8\xff one", 7), std::string("\xff\xd8\xff two!", 8)};
  index.map.mean = {0.5, 0.1, -0.2};
  index.map.axes = {std::vector<double>{1, 0, 0}, std::vector<double>{0, 0.6, 0.8}};
  index.map.explained_variance = {0.7, 0.2};
  index.map_points = {{{0.25f, -1.5f}}, {{3.0f, 0.125f}}};
  index.tta = 2;
  index.made_from = {{"checkpoint-best.pt", "abc"}, {"model.json", "def"}, {"cache.bin", "123"}};
  return index;
}

TEST(ReferenceIndex, RoundTripsEveryField) {
  const ReferenceIndex in = small_index();
  const ReferenceIndex out = decode_reference_index(encode_reference_index(in), "x.bin");
  EXPECT_EQ(out.embeddings.dim, 3);
  EXPECT_EQ(out.embeddings.values, in.embeddings.values);
  EXPECT_EQ(out.names, in.names);
  EXPECT_EQ(out.patients, in.patients);
  EXPECT_EQ(out.labels, in.labels);
  EXPECT_EQ(out.thumbnails, in.thumbnails);
  EXPECT_EQ(out.map.mean, in.map.mean);
  EXPECT_EQ(out.map.axes, in.map.axes);
  EXPECT_EQ(out.map.explained_variance, in.map.explained_variance);
  EXPECT_EQ(out.map_points, in.map_points);
  EXPECT_EQ(out.tta, 2);
  EXPECT_EQ(out.made_from, in.made_from);
}

TEST(ReferenceIndex, RefusesEveryDamagedByteAndTruncation) {
  const std::string bytes = encode_reference_index(small_index());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    const std::string error = testing::error_of([&] { decode_reference_index(damaged, "R/ri.bin"); });
    EXPECT_NE(error.find("R/ri.bin: damaged reference index"), std::string::npos) << "byte " << i;
  }
  for (size_t length : {size_t{0}, size_t{20}, size_t{48}, bytes.size() - 1}) {
    const std::string error =
        testing::error_of([&] { decode_reference_index(bytes.substr(0, length), "R/ri.bin"); });
    EXPECT_NE(error.find("damaged reference index"), std::string::npos) << "length " << length;
  }
  EXPECT_NE(testing::error_of([&] { decode_reference_index(bytes + "x", "R/ri.bin"); }).find("damaged"),
            std::string::npos);
}

}  // namespace
}  // namespace dermsim
