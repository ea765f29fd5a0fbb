#include "config/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <yaml-cpp/eventhandler.h>

namespace custodian::config::internal {
namespace {

namespace fs = std::filesystem;

// Counts a file's documents and notes where the second one's content starts (its first
// node, as YAML::LoadAll's nodes reported it), building no nodes.
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (documents == 2 && !second_node_seen_) {
      second = mark;
      second_node_seen_ = true;
    }
  }
  bool second_node_seen_ = false;
};

std::string Normal(const fs::path& p) {
  std::string s = p.lexically_normal().string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s.empty() ? "." : s;
}

// Why a read of path failed, without the path (the message names the file as the user wrote
// it): "open <path>: reason" becomes "reason".
std::string ReadFailure(const Status& st, const std::string& path) {
  const std::string& m = st.message();
  const size_t at = m.find(path);
  const size_t colon = at == std::string::npos ? at : m.find(": ", at + path.size());
  return colon == std::string::npos ? m : m.substr(colon + 2);
}

bool LooksLikeInteger(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  return std::all_of(s.begin() + i, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string RangeMessage(int64_t min, int64_t max, const std::string& got) {
  if (max == std::numeric_limits<int64_t>::max()) {
    return "must be at least " + std::to_string(min) + ", got " + got;
  }
  return "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + got;
}

std::optional<int64_t> ParseInt(const YAML::Node& value, int64_t min, int64_t max,
                                std::string* error) {
  if (!value.IsScalar()) {
    *error = "expected an integer, got " + Describe(value);
    return std::nullopt;
  }
  const std::string& s = value.Scalar();
  if (!LooksLikeInteger(s)) {
    *error = "expected an integer, got " + Quote(s);
    return std::nullopt;
  }
  // A quoted "14" is a string in YAML; say so rather than silently converting it.
  if (value.Tag() != "?" && value.Tag() != "tag:yaml.org,2002:int") {
    *error = "expected an integer, got the string " + Quote(s) + " (remove the quotes)";
    return std::nullopt;
  }
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
    *error = RangeMessage(min, max, s);
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  return Normal(ec ? fs::path(path) : p);
}

void ErrorList::Add(int file_seq, int line, std::string text) {
  entries_.push_back({file_seq, line, std::move(text)});
}

std::string ErrorList::Joined() const {
  std::vector<Entry> sorted = entries_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
    return a.file_seq != b.file_seq ? a.file_seq < b.file_seq : a.line < b.line;
  });
  std::string out;
  for (const Entry& e : sorted) {
    if (!out.empty()) out += '\n';
    out += e.text;
  }
  return out;
}

SourceFile::SourceFile(std::string display_path, std::string absolute_path, ErrorList& errors,
                       int seq, Filesystem& files)
    : display_path_(std::move(display_path)),
      absolute_path_(std::move(absolute_path)),
      errors_(errors),
      seq_(seq),
      fs_(files) {}

std::string SourceFile::Resolve(const std::string& path) const {
  fs::path p(path);
  if (p.is_absolute()) return Normal(p);
  return Normal(fs::path(absolute_path_).parent_path() / p);
}

std::string SourceFile::ResolveForDisplay(const std::string& path) const {
  fs::path p(path);
  if (p.is_absolute()) return Normal(p);
  return Normal(fs::path(display_path_).parent_path() / p);
}

std::string SourceFile::Where(const YAML::Mark& mark) const {
  if (mark.line < 0) return display_path_;
  return display_path_ + ":" + std::to_string(mark.line + 1);
}

void SourceFile::Error(const YAML::Mark& mark, const std::string& key_path,
                       const std::string& message) {
  std::string text = Where(mark) + ": ";
  if (!key_path.empty()) text += key_path + ": ";
  errors_.Add(seq_, mark.line + 1, text + message);
}

std::optional<YAML::Node> SourceFile::Parse() {
  // A config file is a few kilobytes; one near this bound is not a config file.
  constexpr uint64_t kMaxConfigBytes = 16 << 20;
  auto read = ReadFileToString(fs_, absolute_path_, kMaxConfigBytes);
  if (!read.ok()) {
    errors_.Add(seq_, 0,
                display_path_ + ": cannot read: " + ReadFailure(read.status(), absolute_path_));
    return std::nullopt;
  }
  const std::string& text = *read;
  // Documents are counted with a bounded loop rather than YAML::LoadAll: on some inputs
  // (a file that is only ",") yaml-cpp 0.7 yields empty documents without end, and LoadAll
  // grew until memory ran out (found by tests/fuzz/fuzz_config).
  YAML::Node doc;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentCounter counter;
    while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
    }
    if (counter.documents > 1) {
      Error(counter.second, "", "only one YAML document is allowed in a file");
      return std::nullopt;
    }
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Error(e.mark, "", "invalid YAML: " + e.msg);
    return std::nullopt;
  }
  if (doc.IsNull()) {
    Error(YAML::Mark(), "", "the file is empty");
    return std::nullopt;
  }
  return doc;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsScalar()) return Quote(node.Scalar());
  return "nothing";
}

MapReader::MapReader(SourceFile& file, const YAML::Node& node, std::string key_path,
                     const YAML::Mark& key_mark)
    : file_(file), path_(std::move(key_path)), mark_(key_mark) {
  if (!node.IsMap()) {
    file_.Error(key_mark, path_, "expected a mapping, got " + Describe(node));
    return;
  }
  ok_ = true;
  // Range-for rather than it->first: GCC 12 misreads yaml-cpp's iterator proxy as dangling.
  for (const auto& pair : node) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      file_.Error(key.Mark(), path_, "keys must be plain strings, got " + Describe(key));
      continue;
    }
    if (const Entry* first = Find(key.Scalar())) {
      file_.Error(
          key.Mark(), PathOf(key.Scalar()),
          "duplicate key; first given at line " + std::to_string(first->key_node.Mark().line + 1));
      continue;
    }
    entries_.push_back({key.Scalar(), key, pair.second});
  }
}

MapReader::Entry* MapReader::Find(const std::string& key) {
  for (Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const MapReader::Entry* MapReader::Find(const std::string& key) const {
  return const_cast<MapReader*>(this)->Find(key);
}

MapReader::Entry* MapReader::Lookup(const std::string& key, Presence presence) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  Entry* e = Find(key);
  if (e == nullptr) {
    if (presence == Presence::kRequired && ok_)
      file_.Error(mark_, PathOf(key), "missing required key");
    return nullptr;
  }
  e->read = true;
  return e;
}

bool MapReader::Has(const std::string& key) { return Lookup(key, Presence::kOptional) != nullptr; }

std::optional<std::string> MapReader::String(const std::string& key, Presence presence) {
  Entry* e = Lookup(key, presence);
  if (e == nullptr) return std::nullopt;
  if (!e->value.IsScalar()) {
    Error(key, "expected a string, got " + Describe(e->value));
    return std::nullopt;
  }
  if (e->value.Scalar().empty()) {
    Error(key, "must not be empty");
    return std::nullopt;
  }
  return e->value.Scalar();
}

std::optional<int64_t> MapReader::Int(const std::string& key, int64_t min, int64_t max,
                                      Presence presence) {
  Entry* e = Lookup(key, presence);
  if (e == nullptr) return std::nullopt;
  std::string error;
  std::optional<int64_t> v = ParseInt(e->value, min, max, &error);
  if (!v) Error(key, error);
  return v;
}

std::optional<std::string> MapReader::Choice(const std::string& key,
                                             const std::vector<std::string>& choices) {
  std::optional<std::string> v = String(key);
  if (!v || std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
  Error(key, "expected one of " + list + ", got " + Quote(*v));
  return std::nullopt;
}

std::optional<YAML::Node> MapReader::Value(const std::string& key, Presence presence) {
  Entry* e = Lookup(key, presence);
  if (e == nullptr) return std::nullopt;
  return e->value;
}

YAML::Mark MapReader::Mark(const std::string& key) const {
  const Entry* e = Find(key);
  return e != nullptr ? e->key_node.Mark() : mark_;
}

std::string MapReader::PathOf(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void MapReader::Error(const std::string& key, const std::string& message) {
  file_.Error(Mark(key), PathOf(key), message);
}

void MapReader::Reject(const std::string& key, const std::string& message) {
  Entry* e = Find(key);
  if (e == nullptr) return;
  e->read = true;
  Error(key, message);
}

void MapReader::Finish() {
  std::string expected;
  for (const std::string& k : known_) expected += (expected.empty() ? "" : ", ") + k;
  for (const Entry& e : entries_) {
    if (e.read) continue;
    Error(e.key, expected.empty() ? "unknown key" : "unknown key; expected one of " + expected);
  }
}

}  // namespace custodian::config::internal
