// The reference index file format (see reference_index.h): one JSON block for the names and small
// fields, one binary block for the numbers and thumbnails, both covered by one checksum.
#include "classify/reference_index.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"

namespace dermsim {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the reference index format is little-endian");

constexpr char kMagic[8] = {'D', 'E', 'R', 'M', 'S', 'I', 'M', 'R'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kMaxDim = 65536;

struct IndexHeader {
  char magic[8];
  uint32_t version;
  uint32_t dim;
  uint64_t count;
  uint64_t meta_bytes;
  uint64_t blob_bytes;
  uint64_t checksum;  // of the fields above, meta and blob
};
static_assert(sizeof(IndexHeader) == 48, "IndexHeader must have no padding");

uint64_t index_checksum(const IndexHeader& header, std::string_view meta, std::string_view blob) {
  ContentHash hash;
  hash.add(&header, offsetof(IndexHeader, checksum));
  hash.add(meta);
  hash.add(blob);
  return hash.value();
}

template <typename T>
void append_raw(std::string& out, const std::vector<T>& values) {
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

}  // namespace

std::string encode_reference_index(const ReferenceIndex& index) {
  const size_t count = index.size();
  check_embeddings(index.embeddings, "encode_reference_index");
  if (index.embeddings.size() != count || index.patients.size() != count || index.labels.size() != count ||
      index.thumbnails.size() != count || index.map_points.size() != count)
    throw std::invalid_argument("encode_reference_index: fields of different lengths");
  std::vector<size_t> thumbnail_bytes;
  for (const auto& t : index.thumbnails) thumbnail_bytes.push_back(t.size());
  const nlohmann::json meta_json = {
      {"names", index.names}, {"patients", index.patients}, {"labels", index.labels},
      {"thumbnail_bytes", thumbnail_bytes}, {"tta", index.tta}, {"made_from", to_json(index.made_from)},
      {"map", {{"mean", index.map.mean}, {"axes", index.map.axes},
               {"explained_variance", index.map.explained_variance}}}};
  const std::string meta = meta_json.dump();
  std::string blob;
  append_raw(blob, index.embeddings.values);
  for (const auto& point : index.map_points) blob.append(reinterpret_cast<const char*>(point.data()), 8);
  for (const auto& t : index.thumbnails) blob += t;

  IndexHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kFormatVersion;
  header.dim = static_cast<uint32_t>(index.embeddings.dim);
  header.count = count;
  header.meta_bytes = meta.size();
  header.blob_bytes = blob.size();
  header.checksum = index_checksum(header, meta, blob);
  std::string out(reinterpret_cast<const char*>(&header), sizeof header);
  return out + meta + blob;
}

namespace {

struct Damaged {
  const std::string& path;
  [[noreturn]] void operator()(const std::string& what) const {
    throw UserError(path + ": damaged reference index (" + what + ")");
  }
};

void read_meta(const nlohmann::json& meta, ReferenceIndex& index,
               std::vector<uint64_t>& thumbnail_bytes) {
  index.names = meta.at("names").get<std::vector<std::string>>();
  index.patients = meta.at("patients").get<std::vector<std::string>>();
  index.labels = meta.at("labels").get<std::vector<int>>();
  thumbnail_bytes = meta.at("thumbnail_bytes").get<std::vector<uint64_t>>();
  index.tta = meta.at("tta").get<int>();
  index.made_from = meta.at("made_from").get<MadeFrom>();
  const auto& map = meta.at("map");
  index.map.mean = map.at("mean").get<std::vector<double>>();
  index.map.axes = map.at("axes").get<std::array<std::vector<double>, 2>>();
  index.map.explained_variance = map.at("explained_variance").get<std::array<double, 2>>();
}

void check_fields(const IndexHeader& header, const ReferenceIndex& index,
                  const std::vector<uint64_t>& thumbnail_bytes, const Damaged& damaged) {
  const size_t count = header.count;
  if (index.names.size() != count || index.patients.size() != count || index.labels.size() != count ||
      thumbnail_bytes.size() != count)
    damaged("names, patients, labels or thumbnails do not match the row count");
  for (int label : index.labels)
    if (label != 0 && label != 1) damaged("a label is not 0 or 1");
  if (index.tta < 1 || index.tta > 8) damaged("tta out of range");
  if (index.map.mean.size() != header.dim || index.map.axes[0].size() != header.dim ||
      index.map.axes[1].size() != header.dim)
    damaged("map axes do not match the embedding size");
}

}  // namespace

ReferenceIndex decode_reference_index(std::string_view bytes, const std::string& path) {
  const Damaged damaged{path};
  IndexHeader header;
  if (bytes.size() < sizeof header) damaged("shorter than its header");
  std::memcpy(&header, bytes.data(), sizeof header);
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) damaged("not a dermsim reference index");
  if (header.version != kFormatVersion)
    damaged("format version " + std::to_string(header.version) + ", expected " + std::to_string(kFormatVersion));
  const uint64_t body = bytes.size() - sizeof header;
  if (header.dim < 1 || header.dim > kMaxDim) damaged("embedding size out of range");
  if (header.meta_bytes > body || header.blob_bytes != body - header.meta_bytes)
    damaged("sizes do not add up to the file's " + std::to_string(bytes.size()) + " bytes");
  const std::string_view meta = bytes.substr(sizeof header, header.meta_bytes);
  const std::string_view blob = bytes.substr(sizeof header + header.meta_bytes);
  if (index_checksum(header, meta, blob) != header.checksum) damaged("checksum mismatch");
  // Rows cost at least (dim + 2) * 4 bytes of the blob, so count is bounded before any product.
  if (header.count > header.blob_bytes / ((uint64_t{header.dim} + 2) * 4)) damaged("row count out of range");

  ReferenceIndex index;
  std::vector<uint64_t> thumbnail_bytes;
  try {
    read_meta(nlohmann::json::parse(meta), index, thumbnail_bytes);
  } catch (const nlohmann::json::exception& e) {
    damaged(std::string("meta: ") + e.what());
  }
  check_fields(header, index, thumbnail_bytes, damaged);

  const uint64_t embedding_bytes = header.count * header.dim * 4, map_bytes = header.count * 8;
  uint64_t thumbnails_total = 0;
  for (uint64_t t : thumbnail_bytes) {
    if (t > header.blob_bytes) damaged("a thumbnail size is out of range");
    thumbnails_total += t;
  }
  if (embedding_bytes + map_bytes + thumbnails_total != header.blob_bytes)
    damaged("the binary block's size does not match its rows");
  index.embeddings.dim = static_cast<int>(header.dim);
  index.embeddings.values.resize(header.count * header.dim);
  std::memcpy(index.embeddings.values.data(), blob.data(), embedding_bytes);
  index.map_points.resize(header.count);
  std::memcpy(index.map_points.data(), blob.data() + embedding_bytes, map_bytes);
  for (float v : index.embeddings.values)
    if (!std::isfinite(v)) damaged("an embedding holds NaN or inf");
  size_t offset = embedding_bytes + map_bytes;
  for (uint64_t t : thumbnail_bytes) {
    index.thumbnails.emplace_back(blob.substr(offset, t));
    offset += t;
  }
  return index;
}

MadeFrom reference_index_inputs(const std::string& checkpoint_id, const std::string& cache_content_id,
                                const std::string& precision) {
  return {{"checkpoint-best.pt", checkpoint_id}, {"cache.bin", cache_content_id}, {"precision", precision}};
}

ReferenceIndex read_reference_index(const RunDir& run, const MadeFrom& current) {
  const std::string path = run.reference_index();
  const std::string remedy = "run `dermsim evaluate --run " + run.root + "`";
  if (!std::filesystem::exists(path))
    throw UserError(run.root + ": no reference-index.bin; " + remedy + " first");
  ReferenceIndex index;
  try {
    index = decode_reference_index(read_file(path), path);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) + "; " + remedy);
  }
  require_made_from(path, to_json(index.made_from), current, remedy);
  return index;
}

nlohmann::json reference_map_json(const ReferenceIndex& index) {
  nlohmann::json points = nlohmann::json::array();
  for (size_t i = 0; i < index.size(); ++i)
    points.push_back({{"x", index.map_points[i][0]}, {"y", index.map_points[i][1]},
                      {"label", index.labels[i]}, {"image", index.names[i]}});
  return {{"method", "pca"}, {"explained_variance", index.map.explained_variance}, {"points", points}};
}

}  // namespace dermsim
