// WritePackageTar: an export package directory as one file, for download.
//
// A package is a directory of files (exports/builder.h); a browser downloads one file. The
// archive is POSIX ustar (GNU base-256 sizes past 8 GiB), which `tar -xf`, 7-Zip and
// Windows' own tar open. Entries are stored as they are (video does not compress), in name
// order, under top_name/, with the files' own sizes and modification times; nothing but
// regular files and directories is archived (a symlink in a package is an error).
//
// The archive is written through the Filesystem seam to tar_path + ".partial", fsynced, and
// renamed into place (then the directory fsynced), so a crash or a failed write leaves no
// archive or a whole one (a failed write removes the partial file). The package's files are
// read directly, with O_NOFOLLOW. Not thread-safe for the same tar_path: callers serialise.
#pragma once

#include <string>

#include "base/filesystem.h"
#include "base/status.h"

namespace custodian::api {

Status WritePackageTar(const std::string& package_dir, const std::string& top_name,
                       const std::string& tar_path, Filesystem& fs = PosixFilesystem::Instance());

}  // namespace custodian::api
