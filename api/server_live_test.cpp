// Live view end to end: the camera simulator (25 fps, a keyframe every 4 s), the real
// `custodian record` process, and the real server over HTTPS on the same data directory
// with the system clock. Measures how far the newest listed fragment's media end lies
// behind the wall clock, from the segment's UTC start and the fragment's own decode time
// as libavformat reads them from the served bytes.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "api/api.h"
#include "api/passwords.h"
#include "api/server.h"
#include "api/testing/https_client.h"
#include "api/tls_cert.h"
#include "media/av_util.h"
#include "records/database.h"
#include "tests/recorder/recorder_harness.h"
#include "tests/sim/sim_process.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace custodian::api {
namespace {

using custodian::testing::RecorderProcess;
using custodian::testing::TestSite;
using testing::ClientResponse;
using testing::Headers;
using testing::HttpsClient;

constexpr char kPurpose[] = "purpose=system_check&purpose_text=live%20view%20test";

struct Entry {
  std::string uri;
  std::string map_range;  // "LEN@OFF" of its EXT-X-MAP
  uint64_t length = 0, offset = 0;
  std::string program_date_time;
  double extinf = 0;
  uint64_t sequence = 0;
};

struct Playlist {
  int64_t target = 0;
  uint64_t media_sequence = 0;
  int discontinuities = 0;
  bool ended = false;
  std::vector<Entry> entries;
};

Playlist Parse(const std::string& text) {
  Playlist p;
  std::istringstream in(text);
  std::string line, map_range;
  Entry next;
  while (std::getline(in, line)) {
    auto value = [&](const std::string& tag) { return line.substr(tag.size()); };
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) {
      p.target = std::stoll(value("#EXT-X-TARGETDURATION:"));
    } else if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) {
      p.media_sequence = std::stoull(value("#EXT-X-MEDIA-SEQUENCE:"));
    } else if (line == "#EXT-X-DISCONTINUITY") {
      ++p.discontinuities;
    } else if (line == "#EXT-X-ENDLIST") {
      p.ended = true;
    } else if (line.rfind("#EXT-X-MAP:", 0) == 0) {
      const size_t at = line.find("BYTERANGE=\"") + 11;
      map_range = line.substr(at, line.find('"', at) - at);
    } else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0) {
      next.program_date_time = value("#EXT-X-PROGRAM-DATE-TIME:");
    } else if (line.rfind("#EXTINF:", 0) == 0) {
      next.extinf = std::stod(value("#EXTINF:"));
    } else if (line.rfind("#EXT-X-BYTERANGE:", 0) == 0) {
      const std::string r = value("#EXT-X-BYTERANGE:");
      next.length = std::stoull(r.substr(0, r.find('@')));
      next.offset = std::stoull(r.substr(r.find('@') + 1));
    } else if (!line.empty() && line[0] != '#') {
      next.uri = line;
      next.map_range = map_range;
      next.sequence = p.media_sequence + p.entries.size();
      p.entries.push_back(next);
      next = Entry{};
    }
  }
  return p;
}

int64_t SegmentOf(const std::string& uri) {
  const std::string prefix = "/api/v1/segments/";
  return std::stoll(uri.substr(prefix.size(), uri.find('/', prefix.size()) - prefix.size()));
}

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

// Whether bytes are exactly one moof box followed by one mdat box.
bool IsMoofMdatPair(const std::string& bytes) {
  if (bytes.size() < 16 || bytes.compare(4, 4, "moof") != 0) return false;
  const uint64_t moof = Be32(bytes, 0);
  if (moof < 8 || moof + 8 > bytes.size() || bytes.compare(moof + 4, 4, "mdat") != 0) return false;
  return moof + Be32(bytes, moof) == bytes.size();
}

struct Decoded {
  int frames = 0;
  int errors = 0;
  int64_t first_dts_us = INT64_MAX;
  int64_t end_us = 0;  // of the last packet: pts + duration
  bool starts_with_keyframe = false;
};

// Demuxes and decodes an MP4 held in memory (an init section and fragments).
Decoded DecodeMp4(const std::string& bytes) {
  Decoded d;
  int fd = ::memfd_create("live-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  AVFormatContext* raw = nullptr;
  REQUIRE(avformat_open_input(&raw, path.c_str(), nullptr, nullptr) == 0);
  media::InputContext fmt(raw);
  REQUIRE(avformat_find_stream_info(raw, nullptr) >= 0);
  const int v = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  REQUIRE(v >= 0);
  const AVStream* st = raw->streams[v];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  REQUIRE(codec);
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  REQUIRE(avcodec_parameters_to_context(dec, st->codecpar) >= 0);
  REQUIRE(avcodec_open2(dec, codec, nullptr) == 0);
  media::Packet pkt = media::MakePacket();
  AVFrame* frame = av_frame_alloc();
  auto drain = [&] {
    for (;;) {
      int rc = avcodec_receive_frame(dec, frame);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
      if (rc < 0) {
        ++d.errors;
        break;
      }
      if (frame->decode_error_flags != 0) ++d.errors;
      ++d.frames;
      av_frame_unref(frame);
    }
  };
  const AVRational us{1, 1'000'000};
  while (av_read_frame(raw, pkt.get()) >= 0) {
    if (pkt->stream_index == v) {
      if (d.first_dts_us == INT64_MAX) d.starts_with_keyframe = pkt->flags & AV_PKT_FLAG_KEY;
      d.first_dts_us = std::min(d.first_dts_us, av_rescale_q(pkt->dts, st->time_base, us));
      d.end_us = std::max(d.end_us, av_rescale_q(pkt->pts + pkt->duration, st->time_base, us));
      if (avcodec_send_packet(dec, pkt.get()) < 0) ++d.errors;
      drain();
    }
    av_packet_unref(pkt.get());
  }
  avcodec_send_packet(dec, nullptr);
  drain();
  av_frame_free(&frame);
  avcodec_free_context(&dec);
  ::close(fd);
  return d;
}

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

// The recorder, the server and the accounts for one camera, "lobby".
class LiveSite {
 public:
  // sub_stream: the camera also names a sub stream (the simulator's "lobby-sub").
  explicit LiveSite(bool sub_stream = false)
      : sim_(Start(sub_stream)),
        site_({Camera(*sim_, sub_stream)}, /*segment_seconds=*/6),
        recorder_(site_) {
    auto db = site_.OpenRecords();
    db_ = std::move(db);
    access_db_ = site_.OpenRecords();
    // The recorder adds the camera's row when it starts; permissions refer to it.
    REQUIRE(custodian::testing::WaitFor(
        [&] { return !custodian::testing::CompleteSegments(*db_, "lobby").empty() || Recording(); },
        60'000));
    AddUser("viewer", records::Role::kStaff, {"lobby"});
    AddUser("other", records::Role::kStaff, {});

    ApiOptions options;
    options.data_dir = site_.data_dir();
    options.sessions.password_cost = PasswordCost::kTestMinimal;
    api_ = std::make_unique<Api>(*db_, *access_db_, SystemClock::Instance(), options);
    auto tls = EnsureTlsCertificate(site_.data_dir() + "/keys", "", "");
    REQUIRE(tls.ok());
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.cert_path = tls->cert_path;
    server_options.key_path = tls->key_path;
    server_options.io_threads = 1;
    server_options.handler_threads = 4;
    auto server = Server::Start(*api_, server_options);
    REQUIRE(server.ok());
    server_ = std::move(server).value();
    client_ = std::make_unique<HttpsClient>(server_->port(), tls->cert_path);
  }

  ~LiveSite() {
    client_.reset();
    server_.reset();
    api_.reset();
    recorder_.Stop();
  }

  // A cookie header value for the account.
  std::string Login(const std::string& name) {
    nlohmann::json body = {{"name", name}, {"password", name + "-correct-horse"}};
    ClientResponse r = client_->Send("POST", "/api/v1/auth/login",
                                     {{"Content-Type", "application/json"}}, body.dump());
    REQUIRE(r.status == 200);
    const std::string set_cookie = r.Header("set-cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  ClientResponse Get(const std::string& target, const std::string& cookie, Headers extra = {}) {
    extra.emplace_back("Cookie", cookie);
    return client_->Send("GET", target, extra);
  }

  std::string Bytes(const std::string& uri, const std::string& range, const std::string& cookie) {
    const uint64_t length = std::stoull(range.substr(0, range.find('@')));
    const uint64_t offset = std::stoull(range.substr(range.find('@') + 1));
    ClientResponse r = Get(
        uri, cookie,
        {{"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}});
    INFO(uri << " " << range << " -> " << r.status << " " << r.body.substr(0, 200));
    REQUIRE(r.status == 206);
    REQUIRE(r.body.size() == length);
    return r.body;
  }

  records::Database& db() { return *db_; }

  std::vector<records::AccessEntry> AccessLog() {
    records::AccessFilter f;
    f.limit = 100000;
    f.newest_first = false;
    auto rows = db_->QueryAccess(f);
    REQUIRE(rows.ok());
    return *rows;
  }

 private:
  static std::unique_ptr<sim::SimulatorProcess> Start(bool sub_stream) {
    std::vector<std::string> specs = {
        "lobby:codec=h264,width=640,height=360,fps=25,gop=100,clip=8"};
    if (sub_stream)
      specs.push_back("lobby-sub:codec=h264,width=320,height=180,fps=25,gop=25,clip=8");
    auto sim = sim::SimulatorProcess::Start(specs);
    REQUIRE(sim.ok());
    return std::move(sim).value();
  }
  static custodian::testing::TestCamera Camera(const sim::SimulatorProcess& sim, bool sub_stream) {
    custodian::testing::TestCamera camera("lobby", sim.Url("lobby"));
    if (sub_stream) camera.sub_url = sim.Url("lobby-sub");
    return camera;
  }
  bool Recording() {
    auto rows = db_->ListSegmentsInState(records::SegmentState::kRecording);
    return rows.ok() && !rows->empty();
  }
  void AddUser(const std::string& name, records::Role role,
               const std::vector<std::string>& cameras) {
    auto hash = HashPassword(name + "-correct-horse", PasswordCost::kTestMinimal);
    REQUIRE(hash.ok());
    auto id = db_->CreateUser({name, role, *hash, false});
    REQUIRE(id.ok());
    for (const auto& c : cameras) REQUIRE(db_->GrantCamera(*id, c).ok());
  }

  std::unique_ptr<sim::SimulatorProcess> sim_;
  TestSite site_;
  RecorderProcess recorder_;
  std::unique_ptr<records::Database> db_;
  std::unique_ptr<records::Database> access_db_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpsClient> client_;
};

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST_CASE("live view: the playlist of a recording camera stays within 4 s of real time") {
  LiveSite site;
  const std::string viewer = site.Login("viewer");
  const std::string live = std::string("/api/v1/cameras/lobby/live.m3u8?") + kPurpose;
  // Polling starts once the window is full (6 s of one-second fragments).
  REQUIRE(custodian::testing::WaitFor(
      [&] {
        ClientResponse r = site.Get(live, viewer);
        return r.status == 200 && Parse(r.body).entries.size() >= 6;
      },
      30'000));

  constexpr int kPolls = 10;
  std::vector<double> latency, gop_latency;
  std::vector<Playlist> polls;
  std::map<std::string, uint64_t> sequence_of;  // "uri@range" -> media sequence number
  bool saw_rollover = false;
  for (int i = 0; i < kPolls; ++i) {
    if (i > 0) SleepMs(2000);
    ClientResponse r = site.Get(live, viewer);
    const UtcMicros fetched = custodian::testing::WallNow();
    INFO("poll " << i << ": " << r.status << "\n" << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.Header("content-type") == "application/vnd.apple.mpegurl");
    Playlist p = Parse(r.body);
    REQUIRE_FALSE(p.ended);
    REQUIRE(p.entries.size() >= 2);
    CHECK(p.target == 1);  // one-second fragments, whatever the GOP
    saw_rollover = saw_rollover || p.discontinuities > 0;

    // Media sequence numbers are stable across reloads.
    for (const Entry& e : p.entries) {
      const std::string key = e.uri + "@" + std::to_string(e.offset);
      auto [it, inserted] = sequence_of.emplace(key, e.sequence);
      CHECK(it->second == e.sequence);
    }
    // The playlist advances between fetches 2 s apart.
    if (!polls.empty()) {
      CHECK(p.entries.back().sequence > polls.back().entries.back().sequence);
      CHECK(p.media_sequence >= polls.back().media_sequence);
    }

    // Every listed range is one whole moof+mdat pair; each file's run of entries decodes
    // from its init section without a single error (the first starts at a keyframe).
    std::string decoding;
    int64_t decoding_segment = -1;
    int decoded_frames = 0;
    auto flush = [&] {
      if (decoding.empty()) return;
      Decoded d = DecodeMp4(decoding);
      CHECK(d.starts_with_keyframe);  // the window's first fragment, or a file's first
      CHECK(d.errors == 0);
      decoded_frames += d.frames;
      decoding.clear();
    };
    for (const Entry& e : p.entries) {
      const std::string bytes =
          site.Bytes(e.uri, std::to_string(e.length) + "@" + std::to_string(e.offset), viewer);
      CHECK(IsMoofMdatPair(bytes));
      if (SegmentOf(e.uri) != decoding_segment) {
        flush();
        decoding_segment = SegmentOf(e.uri);
        decoding = site.Bytes(e.uri, e.map_range, viewer);
      }
      decoding += bytes;
    }
    flush();
    CHECK(decoded_frames >= 25 * 5);  // about six seconds of 25 fps

    // Latency: the newest fragment's media end (its segment's UTC start plus the decode
    // times libavformat reads from its bytes) against the wall clock after the fetch.
    const Entry& newest = p.entries.back();
    auto row = site.db().GetSegment(SegmentOf(newest.uri));
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    const std::string init = site.Bytes(newest.uri, newest.map_range, viewer);
    Decoded d = DecodeMp4(
        init + site.Bytes(newest.uri,
                          std::to_string(newest.length) + "@" + std::to_string(newest.offset),
                          viewer));
    REQUIRE(d.first_dts_us != INT64_MAX);
    CHECK(newest.program_date_time == FormatUtc((*row)->start + d.first_dts_us));
    const UtcMicros media_end = (*row)->start + d.end_us;
    latency.push_back(Seconds(fetched - media_end));
    // The baseline, from the same playlist: what fragments of whole GOPs would have offered,
    // the end of the newest whole GOP, which is where the newest keyframe fragment starts.
    for (auto e = p.entries.rbegin(); e != p.entries.rend(); ++e) {
      auto seg = site.db().GetSegment(SegmentOf(e->uri));
      REQUIRE(seg.ok());
      REQUIRE(seg->has_value());
      Decoded k = DecodeMp4(
          site.Bytes(e->uri, e->map_range, viewer) +
          site.Bytes(e->uri, std::to_string(e->length) + "@" + std::to_string(e->offset), viewer));
      if (k.starts_with_keyframe) {
        gop_latency.push_back(Seconds(fetched - ((*seg)->start + k.first_dts_us)));
        break;
      }
    }
    polls.push_back(std::move(p));
  }

  std::vector<double> sorted = latency;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> gop_sorted = gop_latency;
  std::sort(gop_sorted.begin(), gop_sorted.end());
  std::printf("live latency over %d polls (s): min %.3f median %.3f max %.3f\n", kPolls,
              sorted.front(), sorted[sorted.size() / 2], sorted.back());
  if (!gop_sorted.empty()) {
    std::printf(
        "baseline, whole-GOP fragments (GOP 4 s), same polls (s): min %.3f median %.3f max %.3f\n",
        gop_sorted.front(), gop_sorted[gop_sorted.size() / 2], gop_sorted.back());
  }
  CHECK(sorted.back() <= 4.0);
  CHECK(sorted.front() >= -0.5);  // never ahead of real time by more than clock noise
  CHECK(saw_rollover);            // 6-s segments: the window crossed into a new file

  // The newest keyframe as a picture.
  ClientResponse pic = site.Get(std::string("/api/v1/cameras/lobby/live.jpg?") + kPurpose, viewer);
  REQUIRE(pic.status == 200);
  CHECK(pic.body.size() > 1000);
  CHECK(pic.body.compare(0, 2, "\xFF\xD8") == 0);
  UtcMicros taken;
  REQUIRE(ParseUtc(pic.Header("x-picture-time"), &taken));
  CHECK(custodian::testing::WallNow() - taken <= 6 * kMicrosPerSecond);  // within a GOP and a bit

  // Only whole fragments are served: a range past them is refused.
  const Entry& last = polls.back().entries.back();
  ClientResponse past = site.Get(last.uri, viewer, {{"Range", "bytes=900000000-"}});
  CHECK(past.status == 416);

  // Every request above (some 150 playlists, init sections, fragments and a picture, across
  // segment rollovers) was one viewing: one start entry, and the 416 logged as the failure
  // it is (so are the playlists refused while the camera was not yet live, before it).
  std::vector<records::AccessEntry> ok, failed;
  for (records::AccessEntry& e : site.AccessLog()) {
    if (e.user_name != "viewer" || !e.camera_id) continue;
    (e.result == records::AccessResult::kOk ? ok : failed).push_back(std::move(e));
  }
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].action == "live_view");
  CHECK(ok[0].purpose_category == "system_check");
  CHECK_FALSE(ok[0].to.has_value());
  const auto after_start = std::count_if(failed.begin(), failed.end(), [&](const auto& e) {
    return e.id > ok[0].id;
  });
  CHECK(after_start == 1);
  CHECK(failed.back().detail.find("range not satisfiable") != std::string::npos);
  CHECK(pic.Header("x-access-entry") == std::to_string(ok[0].id));
}

TEST_CASE("live view needs a purpose and permission for the camera, and logs refusals") {
  LiveSite site;
  const std::string viewer = site.Login("viewer");
  const std::string other = site.Login("other");
  const std::string base = "/api/v1/cameras/lobby/live.m3u8";
  REQUIRE(custodian::testing::WaitFor(
      [&] { return site.Get(base + "?" + kPurpose, viewer).status == 200; }, 30'000));

  // No purpose: refused, and the refusal is in the access log.
  size_t before = site.AccessLog().size();
  ClientResponse r = site.Get(base, viewer);
  CHECK(r.status == 400);
  auto log = site.AccessLog();
  REQUIRE(log.size() == before + 1);
  CHECK(log.back().action == "live_view");
  CHECK(log.back().user_name == "viewer");
  CHECK(log.back().result == records::AccessResult::kDenied);
  CHECK(log.back().camera_id.value_or("") == "lobby");

  // A staff account without this camera: 403 on each live route, each logged.
  ClientResponse ok = site.Get(base + "?" + kPurpose, viewer);
  REQUIRE(ok.status == 200);
  const std::string segment_uri = Parse(ok.body).entries.back().uri;
  for (const std::string& target :
       {base + "?" + kPurpose, std::string("/api/v1/cameras/lobby/live.jpg?") + kPurpose,
        segment_uri}) {
    INFO(target);
    before = site.AccessLog().size();
    r = site.Get(target, other);
    CHECK(r.status == 403);
    log = site.AccessLog();
    REQUIRE(log.size() == before + 1);
    CHECK(log.back().user_name == "other");
    CHECK(log.back().result == records::AccessResult::kDenied);
  }

  // The allowed fetch was logged before the playlist went out, with what it listed.
  records::AccessFilter f;
  f.action = "live_view";
  auto views = site.db().QueryAccess(f);
  REQUIRE(views.ok());
  auto allowed = std::find_if(views->begin(), views->end(), [](const records::AccessEntry& e) {
    return e.result == records::AccessResult::kOk;
  });
  REQUIRE(allowed != views->end());
  CHECK(allowed->user_name == "viewer");
  CHECK(allowed->purpose_category == "system_check");
  CHECK(allowed->detail.find("fragments") != std::string::npos);
}

}  // namespace custodian::api

namespace custodian::api {

TEST_CASE("live view of a camera with a sub stream shows the sub stream and records the main one") {
  LiveSite site(/*sub_stream=*/true);
  // Once the sub stream has footage, the first playlist (which starts the viewing and names
  // its stream in the start entry) is the sub stream's.
  REQUIRE(custodian::testing::WaitFor(
      [&] { return !custodian::testing::CompleteSegments(site.db(), "lobby--sub").empty(); },
      60'000));
  const std::string viewer = site.Login("viewer");
  const std::string live = std::string("/api/v1/cameras/lobby/live.m3u8?") + kPurpose;
  ClientResponse r;
  REQUIRE(custodian::testing::WaitFor(
      [&] {
        r = site.Get(live, viewer);
        return r.status == 200 && r.Header("x-live-stream") == "sub" &&
               Parse(r.body).entries.size() >= 2;
      },
      60'000));
  // Every listed fragment is the sub stream's, served to a person permitted the camera.
  const Playlist p = Parse(r.body);
  for (const Entry& e : p.entries) {
    auto row = site.db().GetSegment(SegmentOf(e.uri));
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    CHECK((*row)->camera_id == "lobby--sub");
    CHECK((*row)->width == 320);
    CHECK((*row)->height == 180);
  }
  const Entry& last = p.entries.back();
  const std::string init = site.Bytes(last.uri, last.map_range, viewer);
  const std::string fragment =
      site.Bytes(last.uri, std::to_string(last.length) + "@" + std::to_string(last.offset), viewer);
  const Decoded decoded = DecodeMp4(init + fragment);
  CHECK(decoded.frames > 0);
  CHECK(decoded.errors == 0);
  // Nobody reaches a sub stream's bytes without the camera's permission.
  const std::string other = site.Login("other");
  CHECK(site.Get(last.uri, other).status == 403);

  // The main stream on request, and as recorded footage.
  ClientResponse main_live = site.Get(live + "&stream=main", viewer);
  REQUIRE(main_live.status == 200);
  CHECK(main_live.Header("x-live-stream") == "main");
  for (const Entry& e : Parse(main_live.body).entries) {
    auto row = site.db().GetSegment(SegmentOf(e.uri));
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    CHECK((*row)->camera_id == "lobby");
    CHECK((*row)->width == 640);
  }
  CHECK(site.Get(live + "&stream=side", viewer).status == 400);
  REQUIRE(custodian::testing::WaitFor(
      [&] { return !custodian::testing::CompleteSegments(site.db(), "lobby").empty(); }, 30'000));
  for (const auto& s : custodian::testing::CompleteSegments(site.db(), "lobby")) {
    CHECK(s.width == 640);
    CHECK(s.height == 360);
  }

  ClientResponse picture =
      site.Get(std::string("/api/v1/cameras/lobby/live.jpg?") + kPurpose, viewer);
  CHECK(picture.status == 200);
  CHECK(picture.Header("x-live-stream") == "sub");

  // The sub stream is part of its camera: not listed, not grantable, logged as the camera.
  ClientResponse list = site.Get("/api/v1/cameras", viewer);
  REQUIRE(list.status == 200);
  const auto cameras = nlohmann::json::parse(list.body)["cameras"];
  REQUIRE(cameras.size() == 1);
  CHECK(cameras[0]["id"] == "lobby");
  CHECK(cameras[0].contains("sub_stream_status"));
  bool logged = false;
  for (const auto& e : site.AccessLog()) {
    CHECK(e.camera_id.value_or("").find("--sub") == std::string::npos);
    logged = logged || (e.action == "live_view" && e.camera_id.value_or("") == "lobby" &&
                        e.detail.find("live sub stream") != std::string::npos);
  }
  CHECK(logged);
}

}  // namespace custodian::api
