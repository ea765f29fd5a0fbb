// The contact sheet a reviewer looks at: a JPEG grid of redacted frames spread over the
// video, each with its masks outlined (red; the kept subject green) and its frame number
// and time. Frames flagged for review are outlined in yellow.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}
#include <opencv2/core.hpp>

#include "base/status.h"
#include "redaction/options.h"

namespace custodian::redaction {

class ContactSheet {
 public:
  // Picks `count` frames evenly over `total_frames` (every 50th when the total is unknown).
  ContactSheet(int count, int64_t total_frames);
  bool Wants(int64_t index) const;
  // Adds a thumbnail of a redacted YUV 4:2:0 frame.
  void Add(int64_t index, double seconds, const AVFrame* frame, const std::vector<Box>& masks,
           const std::vector<Box>& kept);
  void MarkFlagged(int64_t index);
  Status Write(const std::string& path) const;
  size_t size() const { return thumbs_.size(); }

 private:
  int count_;
  int64_t total_;
  std::map<int64_t, cv::Mat> thumbs_;
};

}  // namespace custodian::redaction
