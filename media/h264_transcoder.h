// H264Transcoder: turns the fragments of one recorded fMP4 file, whatever its video codec
// (H.265 in practice), into a fragmented MP4 of H.264 that every browser's Media Source
// Extensions can play.
//
// Contract:
// - The caller feeds the file's init section (ftyp+moov) once, then whole fragments
//   (moof+mdat) in file order, each call with as many as it likes (Feed). The first
//   fragment fed must start with a keyframe. Fragments may come from a file that is still
//   growing: nothing needs the end of the file.
// - Output() is what has been produced so far: an init section (ftyp+moov, written once
//   the first picture is decoded) followed by one output fragment per Feed call that
//   produced pictures. Bytes once produced never change, so a reader may take them by
//   offset while more are appended.
// - Finish() drains the decoder and encoder and writes the last fragment; Feed after it is
//   an error.
// - Pictures are scaled down to fit max_width x max_height (never up) and encoded with
//   libx264 at its fastest preset without delay (no B-frames, no lookahead), so each Feed's
//   pictures come out in that call's fragment; a keyframe of the input starts an IDR
//   picture of the output, so the output is seekable where the input was. Audio is dropped.
// - Not thread-safe: one caller at a time. Errors are kDataLoss for input the decoder
//   cannot read, kInternal/kResourceExhausted for libav failures.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace custodian::media {

struct TranscodeSize {
  int max_width = 1280;
  int max_height = 720;
};

class H264Transcoder {
 public:
  explicit H264Transcoder(TranscodeSize size);
  ~H264Transcoder();
  H264Transcoder(const H264Transcoder&) = delete;
  H264Transcoder& operator=(const H264Transcoder&) = delete;

  // init: the source file's ftyp+moov; fragments: whole moof+mdat pairs that follow the
  // ones fed before. Returns the number of pictures encoded by this call.
  Result<int> Feed(std::string_view init, std::string_view fragments);
  Status Finish();

  const std::string& Output() const;
  bool finished() const;
  int64_t pictures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::media
