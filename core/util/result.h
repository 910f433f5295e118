#pragma once

#include <optional>
#include <string>
#include <utility>

#include "core/util/check.h"

namespace synthlens {

// The outcome of an operation that can fail for expected reasons (a corrupt file, a missing
// folder): either a value or a human-readable error naming the file and the problem.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  static Result Failure(std::string error) {
    Result r;
    r.error_ = std::move(error);
    return r;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

  T& value() & {
    SL_CHECK(ok(), "Result holds an error: " << error_);
    return *value_;
  }
  const T& value() const& {
    SL_CHECK(ok(), "Result holds an error: " << error_);
    return *value_;
  }
  T&& value() && {
    SL_CHECK(ok(), "Result holds an error: " << error_);
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Result() = default;
  std::optional<T> value_;
  std::string error_;
};

}  // namespace synthlens
