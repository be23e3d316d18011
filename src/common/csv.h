// The one CSV reader/writer of dermsim (RFC 4180): metadata, duplicates, splits, predictions and
// reports all go through here, so every CSV error names the file and line the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dermsim {

struct CsvTable {
  std::string path;  // for error messages
  std::vector<std::string> header;  // names trimmed of surrounding whitespace
  std::vector<std::vector<std::string>> rows;  // each has header.size() fields
  std::vector<long> line_numbers;  // 1-based physical line where each row starts
  long header_line = 1;

  int column(std::string_view name) const;  // -1 if absent
  // "path:LINE: " for row `row`, the prefix every row-level error message starts with.
  std::string where(size_t row) const;
};

// Parses CSV text. Accepts CRLF, LF and lone CR line ends, quoted fields with commas, doubled quotes
// and embedded line breaks, a UTF-8 BOM, and a missing final newline; skips blank lines.
// Throws UserError ("path:LINE: ...") on an unterminated quote, text after a closing quote,
// a row whose field count differs from the header, duplicate header names, or no header at all.
CsvTable parse_csv(std::string_view text, const std::string& path_for_errors);
CsvTable read_csv(const std::string& path);

// One field as it should appear in a CSV line: quoted only when it must be (comma, quote,
// line break, surrounding whitespace that a reader might trim, or a leading UTF-8 BOM).
std::string csv_field(std::string_view value);

// Header + rows as CSV text with LF line ends.
std::string format_csv(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows);
// Writes format_csv(...) atomically (temp file + rename).
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows);

// The index of the first of `names` (spellings of one column, preferred first) in the table's
// header. Throws UserError "PATH: missing required column 'A' (the ROLE; also accepted: B, C);
// columns found: x, y" when none is there; role may be empty.
int require_column(const CsvTable& table, const std::vector<std::string>& names,
                   const std::string& role = "");

}  // namespace dermsim
