// Encrypted zip: a copy of an export package for removable media, as a zip archive with
// AES-256 encryption (WinZip AE-2, which 7-Zip, WinZip and macOS's Archive Utility open),
// made with Debian's 7-Zip (`7z`, package p7zip-full). Video does not compress, so entries
// are stored, not deflated.
//
// The password is generated here, handed back once and never stored; it reaches 7z on its
// standard input, never on a command line that other local users could read in ps.
#pragma once

#include <string>

#include "base/status.h"

namespace custodian::exports {

// A random password of 24 characters from an alphabet without look-alikes (about 130
// bits), in groups of four for reading aloud: "k7Qm-..." .
std::string GeneratePassword();

// The 7z binary found on PATH, or kUnavailable naming the package to install.
Result<std::string> Find7z();

// Writes zip_path (which must not exist) holding package_dir as its top-level folder.
Status MakeEncryptedZip(const std::string& package_dir, const std::string& zip_path,
                        const std::string& password);

}  // namespace custodian::exports
