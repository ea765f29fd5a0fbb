// The wall-clock timed-text track of exported MP4s, checked with ffprobe and ffmpeg as a
// recipient's player would read it.
#include "exports/timed_text.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exports/testing.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

std::string Ffprobe() {
  std::string cli = CUSTODIAN_FFMPEG_CLI;
  cli.replace(cli.rfind("ffmpeg"), 6, "ffprobe");
  return cli;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The SHA-256 of every video packet's data, in file order.
std::vector<std::string> VideoPacketHashes(const std::string& path) {
  return Lines(RunOutput(Ffprobe() + " -v error -select_streams v:0 -show_data_hash sha256 " +
                         "-show_entries packet=data_hash -of csv=p=0 '" + path + "'"));
}

struct Cue {
  double start = 0;  // seconds from the file's start
  std::string text;
};

// The file's subtitle track as ffmpeg reads it: each packet's time from ffprobe, its text
// through ffmpeg's SubRip conversion (style tags removed). ffmpeg gives no cue durations
// for fragmented files (its own output included); players show a cue until the next.
std::vector<Cue> SubtitleCues(const std::string& path) {
  int status = 0;
  const std::string srt = RunOutput(std::string(CUSTODIAN_FFMPEG_CLI) + " -nostdin -v error -i '" +
                                        path + "' -map 0:s:0 -f srt -",
                                    &status);
  INFO(srt);
  REQUIRE(status == 0);
  std::vector<std::string> texts;
  const std::vector<std::string> lines = Lines(srt);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].find(" --> ") == std::string::npos) continue;
    std::string text;
    bool in_tag = false;
    for (char c : lines[i + 1]) {
      if (c == '<') in_tag = true;
      if (!in_tag) text.push_back(c);
      if (c == '>') in_tag = false;
    }
    texts.push_back(text);
  }
  const std::vector<std::string> times =
      Lines(RunOutput(Ffprobe() + " -v error -select_streams s:0 -show_entries packet=pts_time " +
                      "-of csv=p=0 '" + path + "'"));
  REQUIRE(times.size() == texts.size());
  std::vector<Cue> cues;
  for (size_t i = 0; i < times.size(); ++i) cues.push_back({std::stod(times[i]), texts[i]});
  return cues;
}

const ManifestFile& OnlyVideo(const Manifest& m) {
  const ManifestFile* found = nullptr;
  for (const ManifestFile& f : m.files) {
    if (f.kind == "video") {
      REQUIRE(found == nullptr);
      found = &f;
    }
  }
  REQUIRE(found != nullptr);
  return *found;
}

}  // namespace

TEST_CASE("every exported MP4 shows the UK time and camera once a second, its video untouched") {
  Site s;
  const UtcMicros t = kT0 - kHour;  // 09:00:00 GMT
  const int64_t a = AddSegment(*s.db, s.dir.path(), "door-1", t, 320, 240, 10);
  const int64_t b = AddSegment(*s.db, s.dir.path(), "door-1", t + 10 * kSecond, 320, 240, 10);
  Built built = Build(s, ApprovedExport(s, {{"door-1", t, t + 20 * kSecond}}));
  INFO(built.result.status().ToString());
  REQUIRE(built.result.ok());
  const ManifestFile& video = OnlyVideo(built.result->manifest);
  const std::string path = built.dir + "/" + video.path;

  const std::string streams = RunOutput(Ffprobe() +
                                        " -v error -show_entries stream=codec_type,codec_name "
                                        "-of csv=p=0 '" + path + "'");
  INFO(streams);
  REQUIRE(streams.find("h264,video") != std::string::npos);
  REQUIRE(streams.find("mov_text,subtitle") != std::string::npos);

  // Bit for bit: the video packets are the two recorded segments' packets, in order.
  std::vector<std::string> recorded;
  for (int64_t id : {a, b}) {
    auto seg = s.db->GetSegment(id);
    REQUIRE(seg.ok());
    for (const std::string& h : VideoPacketHashes(s.dir.path() + "/" + (*seg)->path))
      recorded.push_back(h);
  }
  REQUIRE(recorded.size() == 500);
  REQUIRE(VideoPacketHashes(path) == recorded);
  REQUIRE(DecodesCleanly(path));

  // One cue a second, contiguous, the first at the file's start in UK local time.
  const std::vector<Cue> cues = SubtitleCues(path);
  REQUIRE(cues.size() == 20);
  for (size_t i = 0; i < cues.size(); ++i) CHECK(cues[i].start == Approx(i).margin(0.0005));
  CHECK(cues.front().text == "15/01/2026 09:00:00 GMT - Front door");
  CHECK(cues.front().text == WallClockCueText(*video.from, "Front door", TimeZone::UkLocal()));
  CHECK(cues.back().text == "15/01/2026 09:00:19 GMT - Front door");

  // The manifest says so.
  std::ifstream in(built.dir + "/manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(in);
  const nlohmann::json& file = manifest["files"][0];
  REQUIRE(file["kind"] == "video");
  CHECK(file["timed_text"]["track_id"] == 2);
  CHECK(file["timed_text"]["format"].get<std::string>().find("mov_text") != std::string::npos);
  CHECK(file["timed_text"]["video"].get<std::string>().find("not re-encoded") !=
        std::string::npos);
}

TEST_CASE("the time in the picture follows the clock change to BST and back to GMT") {
  struct Change {
    UtcMicros start;
    std::string before, after;  // the cues either side of the change
  };
  const std::vector<Change> changes = {
      // 30 March 2025: 01:00 GMT becomes 02:00 BST.
      {UtcMicros{1743296395LL * kSecond}, "30/03/2025 00:59:59 GMT - Front door",
       "30/03/2025 02:00:00 BST - Front door"},
      // 26 October 2025: 02:00 BST becomes 01:00 GMT.
      {UtcMicros{1761440395LL * kSecond}, "26/10/2025 01:59:59 BST - Front door",
       "26/10/2025 01:00:00 GMT - Front door"}};
  for (const Change& c : changes) {
    Site s;
    AddSegment(*s.db, s.dir.path(), "door-1", c.start, 320, 240, 10);
    Built built = Build(s, ApprovedExport(s, {{"door-1", c.start, c.start + 10 * kSecond}}));
    INFO(built.result.status().ToString());
    REQUIRE(built.result.ok());
    const std::vector<Cue> cues =
        SubtitleCues(built.dir + "/" + OnlyVideo(built.result->manifest).path);
    REQUIRE(cues.size() == 10);
    // 00:59:55 UTC is the file's start; the change is five seconds in.
    CHECK(cues[4].start == Approx(4).margin(0.0005));
    CHECK(cues[4].text == c.before);
    CHECK(cues[5].start == Approx(5).margin(0.0005));
    CHECK(cues[5].text == c.after);
  }
}

TEST_CASE("wall-clock cues start and end where the footage does, one per whole second") {
  const TimeZone& uk = TimeZone::UkLocal();
  const UtcMicros origin = kT0 + 400'000;  // 10:00:00.4
  const auto cues = WallClockCues(origin, origin, kT0 + 3 * kSecond + 250'000, "Yard", uk);
  REQUIRE(cues.size() == 4);
  CHECK(cues[0].start == 0);
  CHECK(cues[0].duration == 600);
  CHECK(cues[0].text == "15/01/2026 10:00:00 GMT - Yard");
  CHECK(cues[1].start == 600);
  CHECK(cues[1].duration == 1000);
  CHECK(cues[3].start == 2600);
  CHECK(cues[3].duration == 250);
  CHECK(cues[3].text == "15/01/2026 10:00:03 GMT - Yard");
  CHECK(WallClockCues(origin, origin, origin, "Yard", uk).empty());
}

TEST_CASE("a header without a movie box is refused, not given a text track") {
  const uint8_t ftyp[] = {0, 0, 0, 16, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0};
  uint32_t id = 0;
  auto r = AddTimedTextTrack(ftyp, sizeof ftyp, 320, 240, &id);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kInvalidArgument);
  const uint8_t broken[] = {0, 0, 0, 99, 'm', 'o', 'o', 'v'};
  REQUIRE_FALSE(AddTimedTextTrack(broken, sizeof broken, 320, 240, &id).ok());
}
