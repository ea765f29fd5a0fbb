// Status and Result<T>: how every fallible call in Custodian reports failure.
//
// A Status is either ok or carries an ErrorKind and a human-readable message. Modules
// return statuses across their boundaries instead of throwing; exceptions from third-party
// libraries (yaml-cpp, nlohmann-json) are caught at the edge and turned into statuses.
// ErrorKind is the single vocabulary that later layers map to exit codes and HTTP statuses
// (see api/ for the HTTP mapping), so add a kind only when a caller must act differently.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace custodian {

enum class ErrorKind {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (config, request body, CLI args)
  kNotFound,          // the named thing does not exist
  kAlreadyExists,     // a unique thing exists already
  kPermissionDenied,  // authenticated but not allowed
  kUnauthenticated,   // no valid identity
  kFailedPrecondition,// the system is not in a state that allows this
  kResourceExhausted, // disk full, too many connections, rate limited
  kUnavailable,       // a peer (camera, database lock) is not reachable right now; retry
  kDataLoss,          // stored data is corrupt or does not verify
  kIo,                // an operating-system I/O call failed
  kInternal,          // a bug: an invariant did not hold
};

const char* ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // "kind: message", for logs and CLI output.
  std::string ToString() const;

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {ErrorKind::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {ErrorKind::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {ErrorKind::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {ErrorKind::kUnauthenticated, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {ErrorKind::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {ErrorKind::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {ErrorKind::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {ErrorKind::kDataLoss, std::move(m)}; }
inline Status IoError(std::string m) { return {ErrorKind::kIo, std::move(m)}; }
inline Status Internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }

// Status from errno after a failed system call: "what: strerror(err)". ENOSPC and EDQUOT
// map to kResourceExhausted so that callers can tell a full disk from other I/O errors.
Status ErrnoStatus(const std::string& what, int err);

// A value or an error. Construct from a T or from a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace custodian

// Return early from the enclosing function when a Status-returning expression fails.
#define CUSTODIAN_RETURN_IF_ERROR(expr)            \
  do {                                             \
    ::custodian::Status _st = (expr);              \
    if (!_st.ok()) return _st;                     \
  } while (0)
