#pragma once

#include <functional>

namespace synthlens {

// Progress callback of long-running work: receives the fraction done in [0, 1] and returns false
// to cancel. Jobs call it between batches; the CLI draws a bar, the studio a progress widget.
using ProgressFn = std::function<bool(double fraction)>;

}  // namespace synthlens
