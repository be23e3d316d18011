#include "classify/metadata_features.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "classify/classifier.h"
#include "common/error.h"

namespace dermsim {

MetadataEncoder MetadataEncoder::fit(const std::vector<const LesionRecord*>& train) {
  MetadataEncoder e;
  double sum = 0, sum_sq = 0;
  long n = 0;
  std::set<std::string> sites;
  for (const LesionRecord* r : train) {
    if (std::isfinite(r->age)) sum += r->age, sum_sq += r->age * r->age, ++n;
    if (!r->site.empty()) sites.insert(r->site);
  }
  if (n > 0) e.age_mean_ = sum / n;
  const double var = n > 1 ? (sum_sq - n * e.age_mean_ * e.age_mean_) / (n - 1) : 0;
  e.age_sd_ = var > 1e-12 ? std::sqrt(var) : 1.0;
  e.sites_.assign(sites.begin(), sites.end());
  return e;
}

std::vector<std::string> MetadataEncoder::column_names() const {
  std::vector<std::string> names = {"age", "age missing", "male", "female", "site missing"};
  for (const auto& s : sites_) names.push_back("site " + s);
  return names;
}

void MetadataEncoder::encode(const LesionRecord& r, float* out) const {
  const bool has_age = std::isfinite(r.age);
  out[0] = has_age ? static_cast<float>((r.age - age_mean_) / age_sd_) : 0.f;
  out[1] = has_age ? 0.f : 1.f;
  out[2] = r.sex == "male" ? 1.f : 0.f;
  out[3] = r.sex == "female" ? 1.f : 0.f;
  const auto site = std::lower_bound(sites_.begin(), sites_.end(), r.site);
  const bool known_site = site != sites_.end() && *site == r.site;
  out[4] = known_site ? 0.f : 1.f;
  for (size_t i = 0; i < sites_.size(); ++i) out[5 + i] = 0.f;
  if (known_site) out[5 + (site - sites_.begin())] = 1.f;
}

Embeddings MetadataEncoder::encode_all(const std::vector<const LesionRecord*>& records) const {
  Embeddings m;
  m.dim = width();
  m.values.resize(records.size() * static_cast<size_t>(m.dim));
  for (size_t i = 0; i < records.size(); ++i) encode(*records[i], m.values.data() + i * m.dim);
  return m;
}

nlohmann::json MetadataEncoder::to_json() const {
  return {{"age_mean", age_mean_}, {"age_sd", age_sd_}, {"sites", sites_}};
}

MetadataEncoder MetadataEncoder::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    MetadataEncoder e;
    e.age_mean_ = classifier_json::number(j, "age_mean");
    e.age_sd_ = classifier_json::number(j, "age_sd");
    if (!(e.age_sd_ > 0)) throw std::invalid_argument("field 'age_sd': must be > 0");
    e.sites_ = j.at("sites").get<std::vector<std::string>>();
    if (!std::is_sorted(e.sites_.begin(), e.sites_.end()) || e.sites_.size() > 1000)
      throw std::invalid_argument("field 'sites': must be a sorted list of site names");
    return e;
  } catch (const nlohmann::json::exception& e) {
    throw UserError(source + ": metadata encoder: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw UserError(source + ": metadata encoder: " + e.what());
  }
}

bool records_have_metadata(const std::vector<const LesionRecord*>& records) {
  for (const LesionRecord* r : records)
    if (!r->sex.empty() || !r->site.empty() || !std::isnan(r->age)) return true;
  return false;
}

Embeddings concat_columns(const Embeddings& x, const Embeddings& m) {
  if (x.size() != m.size()) throw std::invalid_argument("concat_columns: row counts differ");
  Embeddings out;
  out.dim = x.dim + m.dim;
  out.values.reserve(x.size() * static_cast<size_t>(out.dim));
  for (size_t i = 0; i < x.size(); ++i) {
    out.values.insert(out.values.end(), x.row(i), x.row(i) + x.dim);
    out.values.insert(out.values.end(), m.row(i), m.row(i) + m.dim);
  }
  return out;
}

}  // namespace dermsim
