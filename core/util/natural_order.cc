#include "core/util/natural_order.h"

#include <cctype>

namespace synthlens {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      // Compare the digit runs by value: skip leading zeros, then the longer run is larger, then
      // the first differing digit decides; equal values with more leading zeros sort after.
      const size_t i0 = i, j0 = j;
      while (i < a.size() && a[i] == '0') ++i;
      while (j < b.size() && b[j] == '0') ++j;
      const size_t is = i, js = j;
      while (i < a.size() && IsDigit(a[i])) ++i;
      while (j < b.size() && IsDigit(b[j])) ++j;
      if (i - is != j - js) return i - is < j - js;
      const std::string_view da = a.substr(is, i - is), db = b.substr(js, j - js);
      if (da != db) return da < db;
      if (is - i0 != js - j0) return is - i0 < js - j0;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i, ++j;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace synthlens
