#pragma once
// Result<T>: a value or an Error. Used at every module boundary.
// An Error carries a human-readable message that says what failed, with context,
// and optionally an errno value and a short machine-readable code (e.g. "temMALFORMED").
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace sashimono::core {

struct Error {
  std::string message;
  int errnum = 0;    // errno, when the failure came from the OS
  std::string code;  // optional machine-readable code

  Error() = default;
  explicit Error(std::string msg, int err = 0, std::string c = {})
      : message(std::move(msg)), errnum(err), code(std::move(c)) {}

  // "context: strerror(errno)"
  static Error fromErrno(const std::string& context, int err = errno) {
    return Error(context + ": " + std::strerror(err), err);
  }
  static Error withCode(std::string c, std::string msg) { return Error(std::move(msg), 0, std::move(c)); }

  // Prefixes the message with more context ("while X: <message>").
  [[nodiscard]] Error context(const std::string& what) const {
    Error e = *this;
    e.message = what + ": " + message;
    return e;
  }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }
  T valueOr(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sashimono::core

// Propagates an error from an expression returning Result<...>.
#define SASHI_TRY(expr)                                  \
  do {                                                   \
    auto sashi_try_r_ = (expr);                          \
    if (!sashi_try_r_.ok()) return sashi_try_r_.error(); \
  } while (0)

// Declares `var` from the value of an expression returning Result<T>, or propagates its error:
//   SASHI_TRY_ASSIGN(root, ConfigNode::parse(text, source));  // root is the ConfigNode
// Expands to several statements: use it in a block, not as the body of an unbraced if.
#define SASHI_TRY_CONCAT_(a, b) a##b
#define SASHI_TRY_NAME_(a, b) SASHI_TRY_CONCAT_(a, b)
#define SASHI_TRY_ASSIGN(var, expr) SASHI_TRY_ASSIGN_IMPL_(var, expr, SASHI_TRY_NAME_(sashi_try_a_, __LINE__))
#define SASHI_TRY_ASSIGN_IMPL_(var, expr, tmp) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.error();           \
  auto var = std::move(tmp).value()
