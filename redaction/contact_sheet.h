// The contact sheet a reviewer looks at: a JPEG grid of redacted frames in frame order, each
// with its masks outlined (red; the kept subject green) and its frame number and time. It
// holds frames spread evenly over the video (Wants) and, added after the run, the first
// frame of every flagged range (Has, Add, LabelFlagged): those carry a yellow label naming
// the range ("flagged 2: frames 120-160") as the review list in the web UI numbers it.
// Every flagged frame on the sheet is outlined in yellow (MarkFlagged).
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
  bool Has(int64_t index) const { return thumbs_.count(index) > 0; }
  void MarkFlagged(int64_t index);
  // Writes `label` in yellow along the bottom of the frame's thumbnail, if it has one.
  void LabelFlagged(int64_t index, const std::string& label);
  Status Write(const std::string& path) const;
  size_t size() const { return thumbs_.size(); }

 private:
  int count_;
  int64_t total_;
  std::map<int64_t, cv::Mat> thumbs_;
};

}  // namespace custodian::redaction
