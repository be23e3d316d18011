// CSV reader/writer: RFC 4180 edge cases, error text, round trips, and Python's csv module as oracle.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include <unistd.h>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "support/oracle.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

using Rows = std::vector<std::vector<std::string>>;

using testing::error_of;

TEST(Csv, ReadsLfCrlfAndLoneCrLineEnds) {
  for (std::string end : {"\n", "\r\n", "\r"}) {
    CsvTable t = parse_csv("a,b" + end + "1,2" + end + "3,4" + end, "x.csv");
    EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b"})) << "line end " << end.size();
    EXPECT_EQ(t.rows, (Rows{{"1", "2"}, {"3", "4"}}));
    EXPECT_EQ(t.line_numbers, (std::vector<long>{2, 3}));
  }
  CsvTable mixed = parse_csv("a\r\n1\n2\r3", "x.csv");
  EXPECT_EQ(mixed.rows, (Rows{{"1"}, {"2"}, {"3"}}));
  EXPECT_EQ(mixed.line_numbers, (std::vector<long>{2, 3, 4}));
}

TEST(Csv, QuotedFieldsWithCommasDoubledQuotesAndLineBreaks) {
  CsvTable t = parse_csv(
      "name,note\r\n"
      "\"a,b\",\"he said \"\"hi\"\"\"\r\n"
      "c,\"two\r\nlines\"\r\n"
      "d,\"lone\rcr\"\r\n"
      "e,\"\"\r\n",
      "q.csv");
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"a,b", "he said \"hi\""}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"c", "two\r\nlines"}));
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"d", "lone\rcr"}));
  EXPECT_EQ(t.rows[3], (std::vector<std::string>{"e", ""}));
  // Rows after a multi-line field start on their physical line.
  EXPECT_EQ(t.line_numbers, (std::vector<long>{2, 3, 5, 7}));
}

TEST(Csv, BomEmptyFieldsTrimmedHeaderNoFinalNewlineAndBlankTrailingLines) {
  CsvTable t = parse_csv("\xEF\xBB\xBF image_name , age\t,site\n,,\nx,,torso\n\n\r\n  \n", "b.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"image_name", "age", "site"}));
  EXPECT_EQ(t.column("image_name"), 0);
  EXPECT_EQ(t.column("site"), 2);
  EXPECT_EQ(t.column("missing"), -1);
  EXPECT_EQ(t.rows, (Rows{{"", "", ""}, {"x", "", "torso"}}));

  CsvTable no_newline = parse_csv("a,b\n1,", "n.csv");
  EXPECT_EQ(no_newline.rows, (Rows{{"1", ""}}));
  CsvTable header_only = parse_csv("a,b", "h.csv");
  EXPECT_TRUE(header_only.rows.empty());
}

TEST(Csv, RaggedRowNamesFileLineAndCounts) {
  std::string message = error_of([] { parse_csv("a,b,c\n1,2,3\n\"x\ny\",2\n", "meta.csv"); });
  EXPECT_NE(message.find("meta.csv:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("expected 3"), std::string::npos) << message;
  EXPECT_NE(message.find("got 2"), std::string::npos) << message;

  message = error_of([] { parse_csv("a,b\n1,2,3\n", "long.csv"); });
  EXPECT_NE(message.find("long.csv:2: expected 2 fields"), std::string::npos) << message;
}

TEST(Csv, UnterminatedQuoteNamesLineWhereItOpened) {
  std::string message = error_of([] { parse_csv("a,b\n1,2\n3,\"open\n4,5\n6,7\n", "u.csv"); });
  EXPECT_NE(message.find("u.csv:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("unterminated"), std::string::npos) << message;
}

TEST(Csv, OtherErrors) {
  EXPECT_NE(error_of([] { parse_csv("", "e.csv"); }).find("e.csv: empty file"), std::string::npos);
  EXPECT_NE(error_of([] { parse_csv("\xEF\xBB\xBF\r\n\n", "e.csv"); }).find("empty file"), std::string::npos);
  std::string message = error_of([] { parse_csv("a,b\n\"x\"y,2\n", "t.csv"); });
  EXPECT_NE(message.find("t.csv:2:"), std::string::npos) << message;
  message = error_of([] { parse_csv("a,b,a\n", "d.csv"); });
  EXPECT_NE(message.find("'a' twice"), std::string::npos) << message;
  message = error_of([] { read_csv("/nonexistent/dir/file.csv"); });
  EXPECT_NE(message.find("/nonexistent/dir/file.csv"), std::string::npos) << message;
}

TEST(Csv, RequireColumnTakesTheFirstSpellingPresentOrNamesWhatIsMissing) {
  const CsvTable t = parse_csv("isic_id,image,target\nA,B,1\n", "m.csv");
  EXPECT_EQ(require_column(t, {"image_name", "isic_id", "image"}), 0);
  EXPECT_EQ(require_column(t, {"target"}), 2);
  EXPECT_EQ(error_of([&] { require_column(t, {"patient_id"}); }),
            "m.csv: missing required column 'patient_id'; columns found: isic_id, image, target");
  EXPECT_EQ(error_of([&] { require_column(t, {"patient_id", "patient"}, "patient id"); }),
            "m.csv: missing required column 'patient_id' (the patient id; also accepted: "
            "patient); columns found: isic_id, image, target");
  EXPECT_EQ(error_of([&] { require_column(t, {"sex"}, "sex"); }),
            "m.csv: missing required column 'sex' (the sex); columns found: isic_id, image, target");
}

TEST(Csv, FieldQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("ISIC_0000001"), "ISIC_0000001");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("head/neck"), "head/neck");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
}

TEST(Csv, WriteThenReadRoundTripsAwkwardValues) {
  auto dir = std::filesystem::temp_directory_path() / ("dermsim_csv_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::mt19937 gen(7);
  const std::string alphabet = "ab ,\"\r\n\t;x";
  Rows rows;
  for (int r = 0; r < 200; ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < 3; ++c) {
      std::string value;
      for (int k = gen() % 6; k > 0; --k) value += alphabet[gen() % alphabet.size()];
      row.push_back(value);
    }
    rows.push_back(row);
  }
  rows.push_back({"", "", ""});
  auto path = (dir / "round.csv").string();
  write_csv(path, {"one", "two", "three"}, rows);
  CsvTable back = read_csv(path);
  EXPECT_EQ(back.header, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(back.rows, rows);

  // A one-column file with an empty value must not read back as a skipped blank line.
  write_csv(path, {"only"}, {{"x"}, {""}, {"y"}});
  EXPECT_EQ(read_csv(path).rows, (Rows{{"x"}, {""}, {"y"}}));
  std::filesystem::remove_all(dir);
}

// Found by fuzz/fuzz_csv.cpp: blank lines, then a BOM that is not at the start of the file, so it
// stays in the first header name. Written back, that name started the file and its BOM was dropped.
TEST(Csv, FuzzRegressionHeaderStartingWithBomRoundTrips) {
  const std::string text = read_file(std::string(DERMSIM_SOURCE_DIR) +
                                     "/fuzz/regressions/csv/bom-after-blank-lines.csv");
  const CsvTable table = parse_csv(text, "fuzz.csv");
  ASSERT_EQ(table.header.at(0), "\xEF\xBB\xBF" "a");
  const CsvTable again = parse_csv(format_csv(table.header, table.rows), "again.csv");
  EXPECT_EQ(again.header, table.header);
  EXPECT_EQ(again.rows, table.rows);
  EXPECT_EQ(csv_field("\xEF\xBB\xBF" "x"), "\"\xEF\xBB\xBF" "x\"");
}

// Python's csv module writes a random file (CRLF, minimal quoting) and the values it meant as JSON.
TEST(Csv, AgreesWithPythonCsvModule) {
  if (std::system("/usr/bin/python3 -c 'import csv, json' 2>/dev/null") != 0)
    ORACLE_UNAVAILABLE("/usr/bin/python3 with csv/json not available");
  auto dir = std::filesystem::temp_directory_path() / ("dermsim_csv_py_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string script = R"(
import csv, json, random, sys
random.seed(3)
alphabet = 'ab ,"\r\nx\t'
rows = [[''.join(random.choice(alphabet) for _ in range(random.randint(0, 6))) for _ in range(4)]
        for _ in range(300)]
with open(sys.argv[1] + '/py.csv', 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, lineterminator='\r\n')
    w.writerow(['h1', 'h2', 'h3', 'h4'])
    w.writerows(rows)
with open(sys.argv[1] + '/py.json', 'w') as f:
    json.dump(rows, f)
)";
  write_file_atomic((dir / "gen.py").string(), script);
  std::string command = "/usr/bin/python3 " + (dir / "gen.py").string() + " " + dir.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto expected = nlohmann::json::parse(read_file((dir / "py.json").string())).get<Rows>();
  CsvTable table = read_csv((dir / "py.csv").string());
  EXPECT_EQ(table.rows, expected);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dermsim
