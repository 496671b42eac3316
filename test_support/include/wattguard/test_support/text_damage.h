// Random damage to a valid text for the parsers' fuzz tests: characters replaced, inserted and erased, and spans
// of the text copied elsewhere, so both small typos and broken structure (split rows, repeated fields) occur.
#pragma once

#include <random>
#include <string>
#include <string_view>

namespace wattguard::test_support {

// 1..max_edits random edits of text, inserted characters drawn from alphabet.
inline std::string damage_text(std::string text, std::mt19937& rng, std::string_view alphabet, int max_edits) {
  const int edits = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_edits));
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const size_t pos = rng() % text.size();
    switch (rng() % 4) {
      case 0: text[pos] = alphabet[rng() % alphabet.size()]; break;
      case 1: text.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      case 2: text.erase(pos, 1 + rng() % 5); break;
      default: text.insert(pos, text.substr(rng() % text.size(), rng() % 30)); break;
    }
  }
  return text;
}

}  // namespace wattguard::test_support
