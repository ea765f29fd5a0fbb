// The H.264 copy of a segment, served by the segment routes themselves
// (`/api/v1/segments/{id}/file?transcode=h264` for playback, `.../live?transcode=h264` for
// live view) to browsers that cannot decode the camera's codec: same purpose, permission
// and viewing rules as the recorder's own bytes, one transcode at a time (transcodes.h).
//
// Query: transcode=h264 (no other value), offset (bytes of the copy the client already
// has, default 0), from_fragment (live: the moof number of the playlist's first keyframe;
// playback starts at the file's first). The answer is 200 with the copy's bytes from
// offset, as many as exist, and:
//   X-Transcode-Complete: yes | no   (no: ask again from offset + the bytes received)
//   X-Transcode-Media-From-Us        the segment's media time where the copy's time zero lies
//   X-Transcode-Wall-From            the same instant as wall-clock UTC
#pragma once

#include <cstdint>

#include "api/handler_support.h"

namespace custodian::api {

// Whether the request asks for the H.264 copy; kInvalidArgument for another transcode value.
Result<bool> WantsTranscode(const HttpRequest& request);

// Answers with the copy of `segment` from the query's offset. reveal has the kind, reach and
// start detail of the route; the fetched time and bytes are filled in here. closed: the
// file will not grow any more.
Result<HttpResponse> TranscodedFootage(ApiContext& ctx, const Call& call,
                                       const records::SegmentRow& segment,
                                       const OpenedSegment& opened, const Purpose& purpose,
                                       const FootageScope& scope, Reveal reveal, bool closed);

}  // namespace custodian::api
