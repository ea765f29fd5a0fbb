// HttpRequest and HttpResponse: the API's own view of an HTTP exchange.
//
// The server (server.cpp, https_session.cpp) converts Beast messages to and from these
// plain values at the edge, so that routing, authentication and every handler are ordinary
// functions from request to response that compile without Boost and can be unit tested
// without a socket. A response either carries its body as a string or names a slice of an
// already open file, which the server streams without copying it into memory.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodian::api {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOther };

Method ParseMethod(std::string_view m);
const char* MethodName(Method m);
// POST, PUT, PATCH and DELETE: the methods that must pass the CSRF checks.
bool IsStateChanging(Method m);

struct HttpRequest {
  Method method = Method::kGet;
  std::string target;                        // as sent: path and query
  std::string path;                          // target before '?', not percent-decoded
  std::map<std::string, std::string> query;  // percent-decoded; a repeated key keeps the first
  // Header names lowercased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client;  // remote IP address
  // No access decision rests on this: a reverse proxy on the box connects from loopback on
  // behalf of anyone.
  bool client_is_loopback = false;

  // The first header with this (lowercase) name, or nullptr.
  const std::string* Header(std::string_view lowercase_name) const;
  // The query parameter, or nullptr.
  const std::string* Query(const std::string& key) const;
};

// Splits target into path and decoded query parameters. Malformed escapes are kept as
// written: a later check on the value refuses them.
void SplitTarget(const std::string& target, std::string* path,
                 std::map<std::string, std::string>* query);
// "%41+b" -> "A b". Invalid escapes are left as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);
// Encodes everything but unreserved characters (RFC 3986), for query values.
std::string PercentEncode(std::string_view s);

// An open file descriptor, closed when the last response referring to it is gone. Opening
// the file in the handler (before the access is logged) means retention may unlink it
// meanwhile without breaking the download.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct FileSlice {
  std::shared_ptr<OpenFile> file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/Length
  std::string body;
  std::optional<FileSlice> file;  // when set, the body is this slice and `body` is unused
  int delay_ms = 0;               // the server waits this long before answering
  bool close = false;             // close the connection after this response

  void SetHeader(const std::string& name, const std::string& value);
  const std::string* FindHeader(std::string_view name) const;  // case-insensitive
  uint64_t BodySize() const { return file ? file->length : body.size(); }
};

// Case-insensitive ASCII comparison for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);

}  // namespace custodian::api
