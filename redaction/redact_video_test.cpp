// The redaction pipeline on video: a face moving over Debian's vtest.avi street scene along
// a known path (masked in every frame; kept, with everyone else masked, when it is the
// subject), the output's frame count, duration and audio, and the fail-closed cases.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "base/testing/temp_dir.h"
#include "redaction/face_net.h"
#include "redaction/redactor.h"
#include "redaction/testing/face_fixture.h"
#include "redaction/video_io.h"

namespace custodian::redaction {
namespace {

namespace fs = std::filesystem;
using custodian::testing::TempDir;

constexpr const char* kVtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
constexpr int kFrames = 100;  // 10 s of vtest at 10 fps
constexpr int kFace = 72;     // composited face size, pixels

// Where the face is in frame i: across the lawn below the walkway, left to right.
cv::Rect FaceAt(int i) {
  int x = 40 + i * (768 - 80 - kFace) / (kFrames - 1);
  int y = 440 + static_cast<int>(20 * std::sin(i / 8.0));
  return {x, y, kFace, kFace};
}

std::vector<cv::Point2f> Poly(const cv::Rect& r) {
  return {{float(r.x), float(r.y)}, {float(r.br().x), float(r.y)},
          {float(r.br().x), float(r.br().y)}, {float(r.x), float(r.br().y)}};
}

// vtest.avi with a face from the labelled photos pasted along FaceAt; nullopt when the
// inputs are not installed.
std::optional<std::string> MakeCompositeVideo(const std::string& dir) {
  auto faces = testing::FindFacesDir(CUSTODIAN_SOURCE_DIR);
  if (!faces || !fs::exists(kVtest)) return std::nullopt;
  auto photos = testing::LoadLabelledPhotos(*faces);
  REQUIRE(photos.ok());
  const testing::LabelledPhoto* src = nullptr;
  for (const auto& p : *photos) {
    if (p.file == "2008_001009.jpg") src = &p;
  }
  REQUIRE(src != nullptr);
  cv::Rect box = cv::boundingRect(src->faces[0]);
  box = cv::Rect(box.x - box.width / 8, box.y - box.height / 8, box.width * 5 / 4,
                 box.height * 5 / 4) & cv::Rect(0, 0, src->bgr.cols, src->bgr.rows);
  cv::Mat face;
  cv::resize(src->bgr(box), face, cv::Size(kFace, kFace), 0, 0, cv::INTER_AREA);
  cv::VideoCapture cap(kVtest);
  REQUIRE(cap.isOpened());
  std::vector<cv::Mat> frames;
  cv::Mat f;
  while (static_cast<int>(frames.size()) < kFrames && cap.read(f)) {
    face.copyTo(f(FaceAt(static_cast<int>(frames.size()))));
    frames.push_back(f.clone());
  }
  REQUIRE(frames.size() == static_cast<size_t>(kFrames));
  std::string path = dir + "/composite.mp4";
  REQUIRE(testing::WriteVideo(path, frames, 10).ok());
  return path;
}

#define REQUIRE_COMPOSITE(var, dir)                                                  \
  auto var = MakeCompositeVideo(dir);                                                \
  if (!var) {                                                                        \
    WARN("SKIPPED: needs opencv-doc's vtest.avi and the labelled face photos");      \
    return;                                                                          \
  }

struct Streams {
  int video = 0, audio = 0;
  double video_duration_s = 0;
};

Streams Probe(const std::string& path) {
  AVFormatContext* fmt = nullptr;
  REQUIRE(avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) == 0);
  REQUIRE(avformat_find_stream_info(fmt, nullptr) >= 0);
  Streams s;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    AVStream* st = fmt->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
      ++s.video;
      s.video_duration_s = st->duration * av_q2d(st->time_base);
    }
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) ++s.audio;
  }
  avformat_close_input(&fmt);
  return s;
}

bool NothingBut(const std::string& dir, const std::vector<std::string>& names) {
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      UNSCOPED_INFO("unexpected file " << n);
      return false;
    }
  }
  return true;
}

TEST_CASE("a face moving over street footage is masked in every frame") {
  TempDir tmp("redact-video");
  REQUIRE_COMPOSITE(in, tmp.path());
  std::string out = tmp.File("out.mp4");
  RedactionOptions o;
  o.contact_sheet_path = tmp.File("sheet.jpg");
  auto rec = RedactVideo(*in, out, o);
  REQUIRE(rec.ok());
  auto din = testing::DecodeVideo(*in);
  auto dout = testing::DecodeVideo(out);
  REQUIRE(din.ok());
  REQUIRE(dout.ok());
  REQUIRE(dout->size() == din->size());
  double lowest = 1;
  for (int i = 0; i < kFrames; ++i) {
    double m = testing::MaskedFraction((*dout)[i], &(*din)[i], Poly(FaceAt(i)));
    INFO("frame " << i);
    CHECK(m >= 0.9);
    lowest = std::min(lowest, m);
  }
  std::printf("moving face: lowest masked fraction over %d frames %.3f\n", kFrames, lowest);
  CHECK(fs::file_size(o.contact_sheet_path) > 10000);
  CHECK(rec->json["input"]["sha256"] == rec->input_sha256);
  CHECK(rec->input_sha256.size() == 64);
  CHECK(rec->output_sha256 != rec->input_sha256);
}

// Cells of a 4-column contact sheet of 320x240 thumbnails whose bottom strip holds yellow
// text: the label of a flagged range's first frame (the yellow outline of any flagged frame
// lies at the cell's edge, outside the strip).
int LabelledCells(const cv::Mat& sheet) {
  constexpr int kW = 320, kH = 240;
  int labelled = 0;
  for (int top = 0; top + kH <= sheet.rows; top += kH) {
    for (int left = 0; left + kW <= sheet.cols; left += kW) {
      int yellow = 0;
      for (int y = top + kH - 20; y < top + kH - 5; ++y) {
        for (int x = left + 8; x < left + kW - 10; ++x) {
          const cv::Vec3b& p = sheet.at<cv::Vec3b>(y, x);  // BGR
          if (p[2] > 170 && p[1] > 170 && p[0] < 110) ++yellow;
        }
      }
      if (yellow >= 8) ++labelled;
    }
  }
  return labelled;
}

TEST_CASE("the contact sheet has a labelled frame for the start of every flagged range") {
  TempDir tmp("redact-sheet");
  REQUIRE_COMPOSITE(in, tmp.path());
  RedactionOptions o;
  o.contact_sheet_path = tmp.File("sheet.jpg");
  auto rec = RedactVideo(*in, tmp.File("out.mp4"), o);
  REQUIRE(rec.ok());
  const auto& flagged = rec->json["flagged"];
  // vtest's pedestrians are people with no face detected: there is something to review.
  REQUIRE(flagged.size() >= 1);
  std::set<int64_t> starts;
  for (const auto& r : flagged) {
    INFO(r.dump());
    CHECK(r["on_contact_sheet"] == true);
    starts.insert(r["from_frame"].get<int64_t>());
  }
  // Flags of one reason a second apart or closer are one range.
  const int64_t every = rec->json["parameters"]["flag_join_frames"].get<int64_t>();
  CHECK(every == 10);  // a second of the 10 fps clip
  for (size_t i = 0; i < flagged.size(); ++i) {
    for (size_t j = 0; j < flagged.size(); ++j) {
      if (i == j || flagged[i]["reason"] != flagged[j]["reason"]) continue;
      const int64_t gap = flagged[j]["from_frame"].get<int64_t>() - flagged[i]["to_frame"].get<int64_t>();
      INFO(flagged[i].dump() << " then " << flagged[j].dump());
      CHECK((gap <= 0 || gap > every));
    }
  }
  const cv::Mat sheet = cv::imread(o.contact_sheet_path);
  REQUIRE_FALSE(sheet.empty());
  REQUIRE(sheet.cols == 4 * 320);
  // 16 frames spread over the 10 s, plus each range's first frame that is not one of them.
  const int rows = sheet.rows / 240;
  std::printf("contact sheet: %zu flagged ranges starting at %zu frames, %d rows\n",
              flagged.size(), starts.size(), rows);
  CHECK(rows >= (static_cast<int>(std::max<size_t>(16, starts.size())) + 3) / 4);
  CHECK(rows <= (16 + static_cast<int>(starts.size()) + 3) / 4);
  CHECK(LabelledCells(sheet) == static_cast<int>(starts.size()));
}

TEST_CASE("keep-subject leaves the subject visible and masks the other people") {
  TempDir tmp("redact-subject");
  REQUIRE_COMPOSITE(in, tmp.path());
  std::string out = tmp.File("out.mp4");
  RedactionOptions o;
  o.mode = Mode::kKeepSubject;
  cv::Rect pick = FaceAt(30);  // 3.0 s at 10 fps
  o.subject = SubjectPick{{pick.x, pick.y, pick.width, pick.height}, 3.0};
  o.contact_sheet_path = tmp.File("sheet.jpg");
  auto rec = RedactVideo(*in, out, o);
  REQUIRE(rec.ok());
  if (const char* keep = std::getenv("REDACT_TEST_KEEP")) {
    fs::copy_file(o.contact_sheet_path, std::string(keep) + "/subject-sheet.jpg",
                  fs::copy_options::overwrite_existing);
  }
  auto din = testing::DecodeVideo(*in);
  auto dout = testing::DecodeVideo(out);
  REQUIRE(din.ok());
  REQUIRE(dout.ok());
  REQUIRE(dout->size() == din->size());

  // The subject: unmasked in (nearly) every frame.
  double subject_sum = 0, subject_max = 0;
  int subject_frames_masked = 0, masked_and_flagged = 0;
  std::set<int64_t> lost;
  for (const auto& r : rec->json["flagged"]) {
    if (r["reason"] != "subject masked") continue;
    for (int64_t f = r["from_frame"].get<int64_t>(); f <= r["to_frame"].get<int64_t>(); ++f) lost.insert(f);
  }
  for (int i = 0; i < kFrames; ++i) {
    // The labelled face inside the pasted square (which has some of the photo around it).
    cv::Rect f = FaceAt(i);
    cv::Rect inner(f.x + f.width / 10, f.y + f.height / 10, f.width * 8 / 10, f.height * 8 / 10);
    // Newly mask-black pixels: dark hair in the photo is black before any mask.
    double m = std::max(0.0, testing::MaskedFraction((*dout)[i], nullptr, Poly(inner)) -
                                 testing::MaskedFraction((*din)[i], nullptr, Poly(inner)));
    subject_sum += m;
    if (m > 0.1) ++subject_frames_masked;
    if (m > 0.1 && lost.count(i)) ++masked_and_flagged;
    subject_max = std::max(subject_max, m);
  }
  // The others: moving pixels (against the median background) above the lawn.
  std::vector<cv::Mat> samples;
  for (int i = 0; i < kFrames; i += 5) samples.push_back((*din)[i].y);
  cv::Mat bg((*din)[0].y.size(), CV_8UC1);
  for (int y = 0; y < bg.rows; ++y) {
    for (int x = 0; x < bg.cols; ++x) {
      std::vector<uint8_t> v;
      for (const auto& s : samples) v.push_back(s.at<uint8_t>(y, x));
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      bg.at<uint8_t>(y, x) = v[v.size() / 2];
    }
  }
  int64_t fg = 0, fg_masked = 0;
  for (int i = 0; i < kFrames; ++i) {
    cv::Mat diff, mask;
    cv::absdiff((*din)[i].y, bg, diff);
    cv::threshold(diff, mask, 40, 255, cv::THRESH_BINARY);
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, {5, 5}));
    for (int y = 0; y < 400; ++y) {
      for (int x = 0; x < mask.cols; ++x) {
        if (!mask.at<uint8_t>(y, x)) continue;
        ++fg;
        const auto& o2 = (*dout)[i];
        if (testing::IsMaskPixel(o2.y.at<uint8_t>(y, x), o2.u.at<uint8_t>(y, x), o2.v.at<uint8_t>(y, x))) {
          ++fg_masked;
        }
      }
    }
  }
  double others = fg ? double(fg_masked) / double(fg) : 0;
  std::printf("keep-subject: subject's face masked mean %.3f max %.3f, %d frames over 10%%; other "
              "people's moving pixels masked %.3f (%lld px)\n", subject_sum / kFrames, subject_max,
              subject_frames_masked, others, static_cast<long long>(fg));
  // Measured 0.19-0.22 and 26-29 frames: the tracker loses the subject for two to three
  // seconds (docs/design/redaction.md, caveats). These bounds keep it from getting worse;
  // the goal is under 0.05 and no frame.
  CHECK(subject_sum / kFrames <= 0.3);
  CHECK(subject_frames_masked <= 35);
  // Where the subject is masked (its track lost, or another face's mask over it), the frames
  // are flagged "subject masked" for review.
  std::printf("keep-subject: %d of the %d frames with the subject masked are flagged \"subject "
              "masked\" (%zu flagged)\n", masked_and_flagged, subject_frames_masked, lost.size());
  CHECK(masked_and_flagged >= subject_frames_masked * 3 / 4);
  CHECK(fg > 10000);
  CHECK(others >= 0.8);
  CHECK(rec->json["mode"] == "keep-subject");
}

TEST_CASE("the output plays with the input's frames and duration and no audio by default") {
  TempDir tmp("redact-audio");
  std::string in = tmp.File("in.mp4");
  std::string cmd = "ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i "
                    "sine=frequency=440 -t 3 -c:v libx264 -preset ultrafast -c:a aac -shortest " +
                    in;
  REQUIRE(std::system(cmd.c_str()) == 0);
  Streams sin = Probe(in);
  REQUIRE(sin.audio == 1);
  auto din = testing::DecodeVideo(in);
  REQUIRE(din.ok());

  RedactionOptions o;
  std::string out = tmp.File("out.mp4");
  REQUIRE(RedactVideo(in, out, o).ok());
  Streams s = Probe(out);
  CHECK(s.video == 1);
  CHECK(s.audio == 0);
  CHECK(std::abs(s.video_duration_s - sin.video_duration_s) < 0.041);
  auto dout = testing::DecodeVideo(out);
  REQUIRE(dout.ok());
  CHECK(dout->size() == din->size());
  CHECK(dout->size() == 75);

  o.keep_audio_reason = "the subject's words are part of the request";
  std::string with_audio = tmp.File("with-audio.mp4");
  auto rec = RedactVideo(in, with_audio, o);
  REQUIRE(rec.ok());
  CHECK(Probe(with_audio).audio == 1);
  CHECK(rec->json["audio"]["kept"] == true);
  CHECK(rec->json["audio"]["reason"] == *o.keep_audio_reason);
}

TEST_CASE("redaction fails closed and writes no output") {
  TempDir tmp("redact-fail");
  std::string out = tmp.File("out.mp4");
  RedactionOptions o;

  auto missing = RedactVideo(tmp.File("nope.mp4"), out, o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().kind() == ErrorKind::kNotFound);
  CHECK(NothingBut(tmp.path(), {}));

  std::string junk = tmp.File("junk.mp4");
  {
    std::ofstream f(junk, std::ios::binary);
    for (int i = 0; i < 100000; ++i) f.put(static_cast<char>((i * 7919) % 251));
  }
  auto corrupt = RedactVideo(junk, out, o);
  REQUIRE_FALSE(corrupt.ok());
  CHECK(NothingBut(tmp.path(), {"junk.mp4"}));

  // A valid file whose coded frames are damaged in the middle.
  std::string damaged = tmp.File("damaged.mp4");
  std::string cmd = "ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=25 -t 4 -c:v libx264 "
                    "-preset ultrafast -g 1000 " + damaged;
  REQUIRE(std::system(cmd.c_str()) == 0);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(damaged) / 2));
    for (int i = 0; i < 4000; ++i) f.put(static_cast<char>(0xff ^ (i * 31)));
  }
  auto bad = RedactVideo(damaged, out, o);
  REQUIRE_FALSE(bad.ok());
  INFO(bad.status().ToString());
  CHECK(NothingBut(tmp.path(), {"junk.mp4", "damaged.mp4"}));

  std::string good = tmp.File("good.mp4");
  cmd = "ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=25 -t 1 -c:v libx264 "
        "-preset ultrafast " + good;
  REQUIRE(std::system(cmd.c_str()) == 0);
  RedactionOptions no_detectors;
  no_detectors.cascade_dir = tmp.File("no-cascades");
  auto undetected = RedactVideo(good, out, no_detectors);
  REQUIRE_FALSE(undetected.ok());
  CHECK(undetected.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(NothingBut(tmp.path(), {"junk.mp4", "damaged.mp4", "good.mp4"}));

  // The face network's model missing, or changed by a single byte: refused, nothing written.
  RedactionOptions no_model;
  no_model.model_dir = tmp.File("no-models");
  auto unmodelled = RedactVideo(good, out, no_model);
  REQUIRE_FALSE(unmodelled.ok());
  CHECK(unmodelled.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(NothingBut(tmp.path(), {"junk.mp4", "damaged.mp4", "good.mp4"}));
  fs::create_directory(tmp.File("bad-models"));
  std::string model = tmp.File("bad-models") + "/" + kFaceModelFile;
  fs::copy_file(DefaultModelDir() + "/" + kFaceModelFile, model);
  {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  RedactionOptions bad_model;
  bad_model.model_dir = tmp.File("bad-models");
  auto tampered = RedactVideo(good, out, bad_model);
  REQUIRE_FALSE(tampered.ok());
  CHECK(tampered.status().kind() == ErrorKind::kFailedPrecondition);
  CHECK(tampered.status().message().find("SHA-256") != std::string::npos);
  fs::remove_all(tmp.File("bad-models"));
  CHECK(NothingBut(tmp.path(), {"junk.mp4", "damaged.mp4", "good.mp4"}));

  // The command line: a bad --manual is a usage error before anything is read.
  std::string bin = std::string(CUSTODIAN_BINARY_DIR) + "/app/custodian";
  std::string cli = bin + " redact " + good + " " + out + " --manual 10,10,50@1-2 2>" +
                    tmp.File("stderr.txt");
  int rc = std::system(cli.c_str());
  CHECK(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream err(tmp.File("stderr.txt"));
  std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK(text.find("bad --manual") != std::string::npos);
  CHECK_FALSE(fs::exists(out));

  // A redaction is not signed off as a side effect of making it, unseen:
  // only `custodian redact sign-off` or the web UI sign its manifest and log the sign-off.
  // Refused before any work, with or without an export.
  for (const char* extra : {" --export 1", ""}) {
    cli = bin + " redact " + good + " " + out + extra + " --reviewer dpo1 --sign-off 2>" +
          tmp.File("stderr.txt") + " >/dev/null";
    rc = std::system(cli.c_str());
    CHECK(WIFEXITED(rc));
    CHECK(WEXITSTATUS(rc) == 2);
    std::ifstream e(tmp.File("stderr.txt"));
    std::string t((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
    CHECK(t.find("custodian redact sign-off") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
  }

  // And a good run through the command line writes OUT, its record and the contact sheet.
  cli = bin + " redact " + good + " " + out + " --manual 10,10,50,50@0-0.5 --reviewer dpo1 "
        "2>" + tmp.File("stderr.txt") + " >/dev/null";
  REQUIRE(std::system(cli.c_str()) == 0);
  CHECK(fs::exists(out));
  CHECK(fs::exists(out + ".contact.jpg"));
  std::ifstream rec(out + ".redaction.json");
  nlohmann::json j = nlohmann::json::parse(rec);
  CHECK(j["manual_regions"].size() == 1);
  CHECK(j["reviewer"] == "dpo1");
  CHECK(j["signed_off_at"].is_null());  // made, not signed off
  CHECK(j["output"]["sha256"].get<std::string>().size() == 64);
  std::ifstream err2(tmp.File("stderr.txt"));
  std::string progress((std::istreambuf_iterator<char>(err2)), std::istreambuf_iterator<char>());
  CHECK(progress.find("redact: 100%") != std::string::npos);
}

}  // namespace
}  // namespace custodian::redaction
