// The one base64 of dermsim (RFC 4648, standard alphabet, '=' padding): the report's data: URIs and
// the kNN training set stored inside classifier.json.
#pragma once

#include <string>
#include <string_view>

namespace dermsim {

// Bytes (any values, in a std::string) -> base64 text, padded to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Base64 text -> bytes. Strict: the length must be a multiple of 4, only the alphabet, and '='
// only as the last one or two characters. Bad text throws UserError "WHAT: <reason>", so the
// caller names the file or field the text came from.
std::string base64_decode(std::string_view text, const std::string& what);

}  // namespace dermsim
