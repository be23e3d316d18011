#include "inference/run_reference_index.h"

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/parallel_for.h"
#include "image/encode.h"

namespace dermsim {

namespace {

constexpr int kThumbnailQuality = 80;

std::string thumbnail_jpeg(const uint8_t* pixels, int size) {
  RgbImage image;
  image.width = image.height = size;
  image.pixels.assign(pixels, pixels + static_cast<size_t>(size) * size * 3);
  if (size > kThumbnailSize) image = resize_bilinear(image, kThumbnailSize, kThumbnailSize);
  return encode_jpeg(image.pixels.data(), image.width, image.height, kThumbnailQuality);
}

}  // namespace

void write_reference_index(const RunData& data, const LoadedModel& model, const PartEmbeddings& train,
                           int tta) {
  if (train.indices.empty())
    throw UserError(data.run.split() + ": the training split is empty; no reference index to write");
  ReferenceIndex index;
  index.embeddings = train.x;
  index.labels = train.y;
  index.patients = train.groups;
  index.tta = tta;
  for (size_t i : train.indices) index.names.push_back(data.images[i].image_name);
  index.thumbnails.resize(train.indices.size());
  const int size = data.cache.image_size();
  parallel_for(train.indices.size(), 0, [&](size_t j) {
    index.thumbnails[j] = thumbnail_jpeg(data.cache.image(train.indices[j]), size);
  });
  index.map = fit_pca_map(index.embeddings);
  for (size_t j = 0; j < index.size(); ++j) {
    const auto xy = project(index.map, index.embeddings.row(j));
    index.map_points.push_back({static_cast<float>(xy[0]), static_cast<float>(xy[1])});
  }
  index.made_from =
      reference_index_inputs(model.checkpoint_id, data.cache.content_id(), precision_name(model.precision));
  write_file_atomic(data.run.reference_index(), encode_reference_index(index));
}

ReferenceIndex load_reference_index(const RunData& data, const LoadedModel& model) {
  if (!std::filesystem::exists(data.run.model_card()))
    throw UserError(data.run.root + ": no model.json (no classifier chosen yet); run `dermsim evaluate --run " +
                    data.run.root + "` first");
  ReferenceIndex index =
      read_reference_index(data.run, reference_index_inputs(model.checkpoint_id, data.cache.content_id(),
                                                            precision_name(model.precision)));
  if (index.embeddings.dim != model.options.embed_dim)
    throw UserError(data.run.reference_index() + ": embeddings of size " + std::to_string(index.embeddings.dim) +
                    " do not fit this network; run `dermsim evaluate --run " + data.run.root + "`");
  return index;
}

}  // namespace dermsim
