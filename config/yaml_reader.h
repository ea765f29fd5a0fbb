// Strict reading of YAML for the config loader. Internal to config/: other modules use
// site_config.h.
//
// Errors are collected, not thrown: every problem found in every file is added to one
// ErrorList as "file:line: key.path: message", and the loader fails with all of them at once.
// A MapReader wraps one YAML mapping; each getter names a key it understands, reads and
// type-checks its value, and Finish() then reports every key that no getter asked for, so an
// unknown or misspelt key is always an error. Getters return std::nullopt both when a key is
// absent and when it is present but invalid; the ErrorList tells the two apart.
//
// Line numbers are 1-based. An error about a key's value carries the key's line, because
// yaml-cpp marks an empty value at the start of the next line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/filesystem.h"

namespace custodian::config::internal {

class ErrorList {
 public:
  // file_seq orders files (the site file is 0, camera files follow in load order).
  void Add(int file_seq, int line, std::string text);
  bool empty() const { return entries_.empty(); }
  // All errors, ordered by file and then line, one per line.
  std::string Joined() const;

 private:
  struct Entry {
    int file_seq;
    int line;
    std::string text;
  };
  std::vector<Entry> entries_;
};

// One config file being read.
class SourceFile {
 public:
  // display_path names the file in messages (as the user wrote it); relative paths inside
  // the file resolve against the directory of absolute_path, which is read through fs.
  SourceFile(std::string display_path, std::string absolute_path, ErrorList& errors, int seq,
             Filesystem& files);

  // An absolute, lexically normalised path; relative ones resolve against this file's
  // directory.
  std::string Resolve(const std::string& path) const;
  // Like Resolve, but for messages: relative to where display_path is.
  std::string ResolveForDisplay(const std::string& path) const;
  // "file:line".
  std::string Where(const YAML::Mark& mark) const;
  // Adds "file:line: key_path: message" ("file:line: message" when key_path is empty).
  void Error(const YAML::Mark& mark, const std::string& key_path, const std::string& message);

  // Reads and parses the file. Reports unreadable files, YAML syntax errors, empty files and
  // files with more than one document, and returns nullopt for them.
  std::optional<YAML::Node> Parse();

 private:
  std::string display_path_;
  std::string absolute_path_;
  ErrorList& errors_;
  int seq_;
  Filesystem& fs_;
};

// path made absolute (against the working directory) and lexically normalised.
std::string AbsolutePath(const std::string& path);

// How a value reads in a message: "a list", "a mapping", "nothing" or the quoted scalar.
std::string Describe(const YAML::Node& node);
// s in double quotes, with quotes and backslashes escaped.
std::string Quote(const std::string& s);

enum class Presence { kOptional, kRequired };

class MapReader {
 public:
  // key_path locates node in the file ("" for the top level, "cameras[2]"). When node is
  // not a mapping, reports "expected a mapping" at key_mark and ok() is false.
  MapReader(SourceFile& file, const YAML::Node& node, std::string key_path,
            const YAML::Mark& key_mark);

  bool ok() const { return ok_; }
  SourceFile& file() { return file_; }

  // True if the key is present. Counts as reading it.
  bool Has(const std::string& key);
  // A non-empty scalar, read as text.
  std::optional<std::string> String(const std::string& key,
                                    Presence presence = Presence::kOptional);
  // A plain (unquoted) decimal integer in [min, max].
  std::optional<int64_t> Int(const std::string& key, int64_t min, int64_t max,
                             Presence presence = Presence::kOptional);
  // A string that must be one of choices.
  std::optional<std::string> Choice(const std::string& key,
                                    const std::vector<std::string>& choices);
  // The raw value, for nested sections and lists.
  std::optional<YAML::Node> Value(const std::string& key, Presence presence = Presence::kOptional);

  // Where to report a problem with key: its line if present, else the mapping's.
  YAML::Mark Mark(const std::string& key) const;
  // "parent.key".
  std::string PathOf(const std::string& key) const;
  void Error(const std::string& key, const std::string& message);
  // If key is present, reports message for it instead of "unknown key" (for keys people
  // are likely to try, such as "password").
  void Reject(const std::string& key, const std::string& message);
  // Reports every key that no getter asked for. Call once, after all getters.
  void Finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool read = false;
  };
  Entry* Find(const std::string& key);
  const Entry* Find(const std::string& key) const;
  Entry* Lookup(const std::string& key, Presence presence);

  SourceFile& file_;
  std::string path_;
  YAML::Mark mark_;
  bool ok_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;  // keys asked for, in order, for "expected one of"
};

}  // namespace custodian::config::internal
