#include "tests/sim/stream_spec.h"

#include <cctype>

#include "tests/sim/parse_util.h"

namespace custodian::sim {

namespace {

constexpr int kMaxClockOffsetSeconds = 7 * 24 * 3600;

bool IsValidName(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

Status ApplyKey(const std::string& key, const std::string& value, StreamSpec* spec) {
  MediaSpec& m = spec->media;
  auto int_key = [&](int* field, int min, int max) -> Status {
    if (!ParseIntInRange(value, min, max, field)) {
      return InvalidArgument(key + "=" + value + " is not an integer in " + std::to_string(min) +
                             ".." + std::to_string(max));
    }
    return Status::Ok();
  };
  if (key == "codec") {
    if (!ParseVideoCodec(value, &m.codec)) return InvalidArgument("codec must be h264 or h265");
  } else if (key == "width") {
    return int_key(&m.width, 16, 4096);
  } else if (key == "height") {
    return int_key(&m.height, 16, 4096);
  } else if (key == "fps") {
    return int_key(&m.fps, 1, 120);
  } else if (key == "bitrate") {
    return int_key(&m.bitrate_kbps, 10, 100000);
  } else if (key == "gop") {
    return int_key(&m.gop_frames, 1, 1200);
  } else if (key == "bframes") {
    return int_key(&m.bframes, 0, 16);
  } else if (key == "clip") {
    return int_key(&m.seconds, 1, 600);
  } else if (key == "audio") {
    if (value != "aac" && value != "none") return InvalidArgument("audio must be aac or none");
    m.audio = value == "aac";
  } else if (key == "source") {
    if (value != "file" && value != "pattern") {
      return InvalidArgument("source must be file or pattern");
    }
    spec->source = value == "file" ? SourceKind::kFile : SourceKind::kPattern;
  } else if (key == "input") {
    m.input = value;
  } else if (key == "file") {
    spec->file_path = value;
  } else if (key == "clock_offset") {
    return int_key(&spec->clock_offset_s, -kMaxClockOffsetSeconds, kMaxClockOffsetSeconds);
  } else if (key == "user") {
    spec->user = value;
  } else if (key == "password") {
    spec->password = value;
  } else {
    return InvalidArgument("unknown key '" + key + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<StreamSpec> ParseStreamSpec(const std::string& text) {
  StreamSpec spec;
  size_t colon = text.find(':');
  spec.name = text.substr(0, colon);
  if (!IsValidName(spec.name)) {
    return InvalidArgument("stream '" + text + "': name must be letters, digits, '_' or '-'");
  }
  std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string::npos) comma = rest.size();
    std::string item = rest.substr(pos, comma - pos);
    pos = comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("stream '" + spec.name + "': expected KEY=VALUE, got '" + item + "'");
    }
    Status st = ApplyKey(item.substr(0, eq), item.substr(eq + 1), &spec);
    if (!st.ok()) return InvalidArgument("stream '" + spec.name + "': " + st.message());
  }
  if (spec.user.empty() != spec.password.empty()) {
    return InvalidArgument("stream '" + spec.name + "': user and password go together");
  }
  if (!spec.file_path.empty() && spec.source == SourceKind::kPattern) {
    return InvalidArgument("stream '" + spec.name + "': file= needs source=file");
  }
  Status valid = ValidateMediaSpec(spec.media);
  if (!valid.ok()) return InvalidArgument("stream '" + spec.name + "': " + valid.message());
  return spec;
}

}  // namespace custodian::sim
