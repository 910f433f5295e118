#pragma once
// Natural order of names: runs of digits compare by their value, the rest byte by byte, so
// test_2 < test_10 < test_100 (ids of generated views, files, classes).

#include <string_view>

namespace synthlens {

bool NaturalLess(std::string_view a, std::string_view b);

}  // namespace synthlens
