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

#include "redaction/options.h"

namespace custodian::redaction {

// Masks `box` (frame pixels; clipped to the frame, widened to even coordinates).
void MaskBox(AVFrame* frame, const Box& box, MaskStyle style);
// Masks everything outside `keep`.
void MaskOutside(AVFrame* frame, const Box& keep, MaskStyle style);

// The block size pixelate and blur use for a box of this size.
int PixelBlock(const Box& box);

}  // namespace custodian::redaction
