// Masks drawn into a decoded frame (planar YUV 4:2:0), in place.
//
// Every style removes the information irreversibly: solid paints black; pixelate replaces
// blocks of at least 16 pixels (and at most 4 across the box's longer side) with their mean;
// blur is that pixelation followed by a smoothing pass, so that unlike a plain Gaussian blur
// there is nothing left to deconvolve.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <vector>

#include "redaction/options.h"
#include "redaction/tracker.h"

namespace custodian::redaction {

// Masks `box` (frame pixels; clipped to the frame, widened to even coordinates).
void MaskBox(AVFrame* frame, const Box& box, MaskStyle style);
// Masks everything outside `keep`.
void MaskOutside(AVFrame* frame, const Box& keep, MaskStyle style);

// The block size pixelate and blur use for a box of this size.
int PixelBlock(const Box& box);

// What one frame's masks are, from the tracker's boxes, the mode and the manual regions.
// In keep-subject, the subject's boxes are restored after masking and then the other faces
// over it masked again, by their tight boxes (their margin would hide the subject whenever
// two people pass close).
struct FrameMasks {
  std::vector<Box> masks;       // masked with the style
  std::vector<Box> kept;        // keep-subject: restored after masking, except `faces_over`
  std::vector<Box> faces_over;  // masked again after the restore (tight boxes, manual regions)
  bool outside_region = false;
};

FrameMasks ComposeMasks(const RedactionOptions& o, const std::vector<MaskBoxAt>& boxes,
                        double seconds);

// Masks one frame as composed: the masks (or everything outside the region), then the kept
// boxes put back as they were, then `faces_over` masked again.
void ApplyMasks(AVFrame* frame, const RedactionOptions& o, const FrameMasks& m);

}  // namespace custodian::redaction
