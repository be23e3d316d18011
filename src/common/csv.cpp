// RFC 4180 CSV parsing and writing; see csv.h for what is accepted.
#include "common/csv.h"

#include <map>

#include "common/atomic_file.h"
#include "common/error.h"

namespace dermsim {

namespace {

std::string_view trim(std::string_view s) {
  const char* space = " \t";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(space);
  return s.substr(first, last - first + 1);
}

std::string at(const std::string& path, long line) { return path + ":" + std::to_string(line) + ": "; }

struct Record {
  std::vector<std::string> fields;
  long line = 0;
  bool blank = false;  // one unquoted, whitespace-only field: an empty line
};

// Reads one record starting at text[i]; advances i past its line end and counts physical lines.
Record next_record(std::string_view text, size_t& i, long& line, const std::string& path) {
  const size_t n = text.size();
  Record record;
  record.line = line;
  bool any_quoted = false;
  bool at_field_start = true;
  std::string field;
  for (;;) {
    if (i >= n) {
      record.fields.push_back(std::move(field));
      break;
    }
    char c = text[i];
    if (at_field_start && c == '"') {
      any_quoted = true;
      const long open_line = line;
      ++i;
      for (;;) {
        if (i >= n) throw UserError(at(path, open_line) + "unterminated quoted field (no closing '\"')");
        char q = text[i++];
        if (q == '"') {
          if (i < n && text[i] == '"') {
            field += '"';
            ++i;
            continue;
          }
          break;
        }
        field += q;
        if (q == '\n' || (q == '\r' && !(i < n && text[i] == '\n'))) ++line;
      }
      if (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
        throw UserError(at(path, line) + "unexpected character '" + std::string(1, text[i]) +
                        "' after a closing quote (quotes inside a quoted field must be doubled)");
      at_field_start = false;
      continue;
    }
    ++i;
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      at_field_start = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i < n && text[i] == '\n') ++i;
      ++line;
      record.fields.push_back(std::move(field));
      break;
    } else {
      field += c;  // a stray quote inside an unquoted field is kept literally, as most writers mean it
      at_field_start = false;
    }
  }
  record.blank = record.fields.size() == 1 && !any_quoted && trim(record.fields[0]).empty();
  return record;
}

}  // namespace

int CsvTable::column(std::string_view name) const {
  for (size_t c = 0; c < header.size(); ++c)
    if (header[c] == name) return static_cast<int>(c);
  return -1;
}

std::string CsvTable::where(size_t row) const {
  return at(path, row < line_numbers.size() ? line_numbers[row] : 0);
}

CsvTable parse_csv(std::string_view text, const std::string& path_for_errors) {
  CsvTable table;
  table.path = path_for_errors;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t i = 0;
  long line = 1;
  bool have_header = false;
  while (i < text.size()) {
    Record record = next_record(text, i, line, path_for_errors);
    if (record.blank) continue;
    if (!have_header) {
      have_header = true;
      table.header_line = record.line;
      std::map<std::string, size_t> seen;
      for (size_t c = 0; c < record.fields.size(); ++c) {
        std::string name(trim(record.fields[c]));
        auto [it, inserted] = seen.emplace(name, c);
        if (!inserted)
          throw UserError(at(path_for_errors, record.line) + "header names column '" + name +
                          "' twice (columns " + std::to_string(it->second + 1) + " and " +
                          std::to_string(c + 1) + ")");
        table.header.push_back(std::move(name));
      }
      continue;
    }
    if (record.fields.size() != table.header.size())
      throw UserError(at(path_for_errors, record.line) + "expected " +
                      std::to_string(table.header.size()) + " fields (as in the header) but got " +
                      std::to_string(record.fields.size()));
    table.rows.push_back(std::move(record.fields));
    table.line_numbers.push_back(record.line);
  }
  if (!have_header) throw UserError(path_for_errors + ": empty file (no header line)");
  return table;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_file(path), path); }

std::string csv_field(std::string_view value) {
  // A leading BOM is quoted too: written first in a file, the reader would take it for the file's
  // BOM and drop it (fuzz/regressions/csv/bom-after-blank-lines.csv).
  bool needs_quotes = value.find_first_of(",\"\r\n") != std::string_view::npos ||
                      (!value.empty() && trim(value).size() != value.size()) ||
                      value.substr(0, 3) == "\xEF\xBB\xBF";
  if (!needs_quotes) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string format_csv(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  auto append_line = [&out](const std::vector<std::string>& fields) {
    for (size_t c = 0; c < fields.size(); ++c) {
      if (c) out += ',';
      // A lone empty field would read back as a blank line, which readers skip.
      out += fields.size() == 1 && fields[c].empty() ? "\"\"" : csv_field(fields[c]);
    }
    out += '\n';
  };
  append_line(header);
  for (const auto& row : rows) append_line(row);
  return out;
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows) {
  for (size_t r = 0; r < rows.size(); ++r)
    if (rows[r].size() != header.size())
      throw std::logic_error("write_csv(" + path + "): row " + std::to_string(r) + " has " +
                             std::to_string(rows[r].size()) + " fields, header has " +
                             std::to_string(header.size()));
  write_file_atomic(path, format_csv(header, rows));
}

int require_column(const CsvTable& table, const std::vector<std::string>& names,
                   const std::string& role) {
  if (names.empty()) throw std::logic_error("require_column(" + table.path + "): no names given");
  for (const auto& name : names)
    if (int c = table.column(name); c >= 0) return c;
  auto join = [](auto first, auto last, const char* separator) {
    std::string out;
    for (auto it = first; it != last; ++it) out += (it == first ? "" : separator) + *it;
    return out;
  };
  std::vector<std::string> notes;
  if (!role.empty()) notes.push_back("the " + role);
  if (names.size() > 1)
    notes.push_back("also accepted: " + join(names.begin() + 1, names.end(), ", "));
  std::string message = table.path + ": missing required column '" + names[0] + "'";
  if (!notes.empty()) message += " (" + join(notes.begin(), notes.end(), "; ") + ")";
  throw UserError(message + "; columns found: " +
                  join(table.header.begin(), table.header.end(), ", "));
}

}  // namespace dermsim
