// Layout detection, column resolution and row-by-row validation of lesion metadata.
#include "data/metadata.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/csv.h"
#include "common/error.h"

namespace dermsim {

namespace {

namespace fs = std::filesystem;

struct KnownLayout {
  const char* name;
  const char* csv;
  const char* images;  // relative to the CSV's folder
};
// Detection order: a training layout wins over the test metadata when a folder holds both.
const KnownLayout kLayouts[] = {
    {"official", "ISIC_2020_Training_GroundTruth.csv", "train"},
    {"kaggle", "train-metadata.csv", "train-image/image"},
    {"official-test", "ISIC_2020_Test_Metadata.csv", "test"},
};
const char* kDuplicatesCsv = "ISIC_2020_Training_Duplicates.csv";
const char* kImageExtensions[] = {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"};

struct Source {
  std::string layout, csv, images;
};

Source find_source(const LoadOptions& options) {
  if (!options.csv_path.empty()) {
    fs::path csv(options.csv_path);
    Source source{"explicit", csv.string(), options.image_dir};
    if (source.images.empty()) {
      source.images = csv.parent_path().string();
      for (const auto& known : kLayouts)
        if (csv.filename() == known.csv) source.images = (csv.parent_path() / known.images).string();
    }
    if (!fs::is_regular_file(csv)) throw UserError(source.csv + ": metadata CSV not found");
    return source;
  }
  if (options.data_dir.empty()) throw UserError("no dataset given: pass a data folder or a metadata CSV");
  fs::path dir(options.data_dir);
  if (!fs::is_directory(dir)) throw UserError(options.data_dir + ": data folder not found");
  std::string looked_for;
  for (const auto& known : kLayouts) {
    if (fs::is_regular_file(dir / known.csv))
      return {known.name, (dir / known.csv).string(), (dir / known.images).string()};
    looked_for += std::string(looked_for.empty() ? "" : ", ") + known.csv + " (" + known.name + ")";
  }
  throw UserError(options.data_dir + ": no recognised dataset layout: looked for " + looked_for +
                  "; or give the metadata CSV and image folder explicitly");
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// Index of the column for one role: the user's name if given, else the first known alias present.
int find_column(const CsvTable& table, const std::string& given, std::vector<std::string> aliases,
                const std::string& role, bool required) {
  if (!given.empty()) {
    int c = table.column(given);
    if (c < 0)
      throw UserError(table.path + ": column '" + given + "' (given for the " + role +
                      ") not found; columns found: " + join(table.header));
    return c;
  }
  if (required) return require_column(table, aliases, role);
  for (const auto& alias : aliases)
    if (int c = table.column(alias); c >= 0) return c;
  return -1;
}

std::string trimmed(const std::string& s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

struct Columns {
  int image, patient, sex, age, site, diagnosis, benign_malignant, target;
};

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if there is none.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  // The allowed range of the second byte narrows after E0/F0 (overlong forms), ED (surrogates)
  // and F4 (above U+10FFFF).
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;  // a stray continuation byte, an overlong C0/C1 lead, or F5..FF
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return length;
}

// Every field of the table (header included) must be UTF-8: names, patients and diagnoses end up
// in JSON reports, and a Latin-1 byte found there (after training) would stop evaluate. Checking
// here fails at prepare, naming the place, before any work is done.
void require_utf8(const CsvTable& table) {
  auto check = [&](const std::string& field, const std::string& where, const std::string& column) {
    for (size_t i = 0; i < field.size();) {
      const size_t length = utf8_sequence_length(field, i);
      if (length == 0) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(field[i]));
        throw UserError(where + "column '" + column + "': not valid UTF-8 text (byte " + hex +
                        " at byte " + std::to_string(i + 1) +
                        " of the field); save the CSV as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
      }
      i += length;
    }
  };
  const std::string header_where = table.path + ":" + std::to_string(table.header_line) + ": ";
  for (size_t c = 0; c < table.header.size(); ++c)
    check(table.header[c], header_where, "#" + std::to_string(c + 1) + " (header)");
  for (size_t r = 0; r < table.rows.size(); ++r)
    for (size_t c = 0; c < table.header.size(); ++c)
      check(table.rows[r][c], table.where(r), table.header[c]);
}

Columns resolve_columns(const CsvTable& table, const ColumnNames& names, bool require_labels) {
  Columns c{};
  c.image = find_column(table, names.image, {"image_name", "isic_id", "image", "image_id"}, "image name", true);
  c.patient = find_column(table, names.patient, {"patient_id", "patient"}, "patient id", true);
  c.sex = find_column(table, names.sex, {"sex"}, "sex", false);
  c.age = find_column(table, names.age, {"age_approx", "age"}, "age", false);
  c.site = find_column(table, names.site,
                       {"anatom_site_general_challenge", "anatom_site_general", "site"}, "site", false);
  c.diagnosis = find_column(table, names.diagnosis, {"diagnosis", "dx"}, "diagnosis", false);
  c.benign_malignant = find_column(table, names.benign_malignant, {"benign_malignant"},
                                   "benign/malignant label", false);
  c.target = find_column(table, names.target, {"target"}, "label (0 benign, 1 malignant)", require_labels);
  return c;
}

LesionRecord parse_row(const CsvTable& table, size_t r, const Columns& c, bool require_labels) {
  const auto& row = table.rows[r];
  auto field = [&](int column) { return column < 0 ? std::string() : trimmed(row[column]); };
  auto fail = [&](int column, const std::string& message) {
    return UserError(table.where(r) + "column '" + table.header[column] + "': " + message);
  };
  LesionRecord record;
  record.csv_line = table.line_numbers[r];
  record.image_name = field(c.image);
  if (record.image_name.empty()) throw fail(c.image, "empty image name");
  record.patient_id = field(c.patient);
  record.sex = field(c.sex);
  record.site = field(c.site);
  record.diagnosis = field(c.diagnosis);
  if (std::string age = field(c.age); !age.empty()) {
    char* end = nullptr;
    record.age = std::strtod(age.c_str(), &end);
    if (*end != '\0' || !std::isfinite(record.age)) throw fail(c.age, "expected a number, got '" + age + "'");
  }
  if (c.target >= 0) {
    std::string target = field(c.target);
    if (target == "0" || target == "1") record.target = target == "1";
    else if (!target.empty() || require_labels)
      throw fail(c.target, "expected 0 (benign) or 1 (malignant), got '" + target + "'");
  }
  if (std::string label = field(c.benign_malignant); !label.empty()) {
    std::transform(label.begin(), label.end(), label.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (label != "benign" && label != "malignant")
      throw fail(c.benign_malignant, "expected benign or malignant, got '" + label + "'");
    if (record.target >= 0 && (label == "malignant") != (record.target == 1))
      throw fail(c.benign_malignant, "says " + label + " but column '" + table.header[c.target] +
                                         "' says " + std::to_string(record.target));
  }
  return record;
}

// Finds <name>.jpg (else .jpeg/.png) in the image folder, listed once: 33k stat calls on a network
// disk cost more than one directory scan.
class ImageFolder {
 public:
  explicit ImageFolder(const std::string& dir) : dir_(dir) {
    if (!fs::is_directory(dir)) throw UserError(dir + ": image folder not found");
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files_.insert(entry.path().filename().string());
  }
  std::string find(const std::string& name) const {
    for (const char* ext : kImageExtensions)
      if (files_.count(name + ext)) return (fs::path(dir_) / (name + ext)).string();
    if (fs::path(name).has_extension() && files_.count(name)) return (fs::path(dir_) / name).string();
    return {};
  }

 private:
  std::string dir_;
  std::unordered_set<std::string> files_;
};

std::vector<std::pair<std::string, std::string>> read_duplicates(
    const std::string& path, const std::vector<LesionRecord>& records) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!fs::is_regular_file(path)) return pairs;
  CsvTable table = read_csv(path);
  require_utf8(table);
  int first = find_column(table, "", {"image_name_1"}, "first image of a duplicate pair", true);
  int second = find_column(table, "", {"image_name_2"}, "second image of a duplicate pair", true);
  std::unordered_set<std::string> present;
  for (const auto& record : records) present.insert(record.image_name);
  for (const auto& row : table.rows) {
    std::string a = trimmed(row[first]), b = trimmed(row[second]);
    if (a != b && present.count(a) && present.count(b)) pairs.emplace_back(a, b);
  }
  return pairs;
}

}  // namespace

LoadedDataset load_dataset(const LoadOptions& options) {
  Source source = find_source(options);
  LoadedDataset dataset;
  dataset.layout = source.layout;
  dataset.csv_path = source.csv;
  dataset.image_dir = source.images;

  CsvTable table = read_csv(source.csv);
  require_utf8(table);
  Columns columns = resolve_columns(table, options.columns, options.require_labels);
  ImageFolder images(source.images);

  std::unordered_map<std::string, long> line_of_image;
  std::vector<LesionRecord> missing;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    LesionRecord record = parse_row(table, r, columns, options.require_labels);
    auto [it, inserted] = line_of_image.emplace(record.image_name, record.csv_line);
    if (!inserted)
      throw UserError(table.where(r) + "column '" + table.header[columns.image] + "': image '" +
                      record.image_name + "' already listed on line " + std::to_string(it->second));
    record.image_path = images.find(record.image_name);
    (record.image_path.empty() ? missing : dataset.records).push_back(std::move(record));
  }
  if (!missing.empty() && !options.skip_missing) {
    const auto& first = missing.front();
    throw UserError(source.csv + ":" + std::to_string(first.csv_line) + ": column '" +
                    table.header[columns.image] + "': image file missing: " +
                    (fs::path(source.images) / (first.image_name + ".jpg")).string() + " (" +
                    std::to_string(missing.size()) + " of " + std::to_string(table.rows.size()) +
                    " images missing; skip_missing drops such rows)");
  }
  for (const auto& record : missing) dataset.missing_images.push_back(record.image_name);

  if (options.require_labels) {
    auto malignant = std::count_if(dataset.records.begin(), dataset.records.end(),
                                   [](const LesionRecord& r) { return r.target == 1; });
    auto images_found = static_cast<long>(dataset.records.size());
    if (malignant == 0 || malignant == images_found)
      throw UserError(source.csv + ": column '" + table.header[columns.target] + "': no " +
                      (malignant == 0 ? "malignant (target=1)" : "benign (target=0)") + " rows among " +
                      std::to_string(images_found) + " images with files; training needs both classes");
  }
  dataset.duplicate_pairs = read_duplicates(
      (fs::path(source.csv).parent_path() / kDuplicatesCsv).string(), dataset.records);
  return dataset;
}

void write_missing_list(const std::string& path, const std::vector<std::string>& missing_images) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : missing_images) rows.push_back({name});
  write_csv(path, {"image_name"}, rows);
}

}  // namespace dermsim
