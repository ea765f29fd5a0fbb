#include "exports/fmp4.h"

#include <cstring>

namespace custodian::exports {

namespace {

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t Be64(const uint8_t* p) { return (uint64_t{Be32(p)} << 32) | Be32(p + 4); }
void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
void PutBe64(uint8_t* p, uint64_t v) {
  PutBe32(p, static_cast<uint32_t>(v >> 32));
  PutBe32(p + 4, static_cast<uint32_t>(v));
}

// sample_is_non_sync_sample in the ISO BMFF sample flags.
constexpr uint32_t kNonSyncFlag = 0x00010000;

struct Box {
  size_t offset = 0;  // of the box header
  size_t header = 8;
  size_t size = 0;  // whole box
  char type[5] = {0, 0, 0, 0, 0};
  size_t body() const { return offset + header; }
  size_t end() const { return offset + size; }
  bool Is(const char* t) const { return std::memcmp(type, t, 4) == 0; }
};

// Reads the boxes in [begin, end) of data.
Result<std::vector<Box>> Children(const uint8_t* data, size_t begin, size_t end) {
  std::vector<Box> out;
  size_t pos = begin;
  while (pos < end) {
    if (end - pos < 8)
      return DataLoss("mp4: truncated box header at offset " + std::to_string(pos));
    Box b;
    b.offset = pos;
    uint64_t size = Be32(data + pos);
    std::memcpy(b.type, data + pos + 4, 4);
    if (size == 1) {
      if (end - pos < 16) return DataLoss("mp4: truncated large box header");
      size = Be64(data + pos + 8);
      b.header = 16;
    } else if (size == 0) {
      size = end - pos;
    }
    if (size < b.header || size > end - pos) {
      return DataLoss(std::string("mp4: box '") + b.type + "' at offset " + std::to_string(pos) +
                      " runs past its container");
    }
    b.size = static_cast<size_t>(size);
    out.push_back(b);
    pos += b.size;
  }
  return out;
}

const Box* Find(const std::vector<Box>& boxes, const char* type) {
  for (const Box& b : boxes) {
    if (b.Is(type)) return &b;
  }
  return nullptr;
}

// Descends a path of box types ("mdia", "minf", "stbl", "stsd") from a container.
Result<Box> Descend(const uint8_t* data, const Box& from, std::initializer_list<const char*> path) {
  Box cur = from;
  for (const char* type : path) {
    auto kids = Children(data, cur.body(), cur.end());
    if (!kids.ok()) return kids.status();
    const Box* next = Find(*kids, type);
    if (!next) return InvalidArgument(std::string("mp4: no '") + type + "' box");
    cur = *next;
  }
  return cur;
}

Status ParseTrak(const uint8_t* d, const Box& trak, Fmp4File* file, std::string* signature) {
  auto tkhd = Descend(d, trak, {"tkhd"});
  auto mdhd = Descend(d, trak, {"mdia", "mdhd"});
  auto hdlr = Descend(d, trak, {"mdia", "hdlr"});
  auto stsd = Descend(d, trak, {"mdia", "minf", "stbl", "stsd"});
  for (auto* r : {&tkhd, &mdhd, &hdlr, &stsd}) {
    if (!r->ok()) return r->status();
  }
  if (tkhd->size < 32 || mdhd->size < 32 || hdlr->size < 24 || stsd->size < 16) {
    return DataLoss("mp4: a track header box is too short");
  }
  Fmp4Track t;
  const uint8_t version = d[tkhd->body()];
  t.track_id = Be32(d + tkhd->body() + (version == 1 ? 20 : 12));
  const uint8_t mversion = d[mdhd->body()];
  t.timescale = Be32(d + mdhd->body() + (mversion == 1 ? 20 : 12));
  t.handler.assign(reinterpret_cast<const char*>(d + hdlr->body() + 8), 4);
  if (t.timescale == 0) return DataLoss("mp4: track with timescale 0");
  if (t.handler == "vide" && file->video_index < 0) {
    file->video_index = static_cast<int>(file->tracks.size());
    // stsd: version/flags, entry count, then the first sample entry: size, type, 6 reserved,
    // data ref index, 16 bytes of pre-defined/reserved, width, height.
    const size_t entry = stsd->body() + 8;
    if (entry + 36 <= stsd->end()) {
      file->video_codec.assign(reinterpret_cast<const char*>(d + entry + 4), 4);
      file->width = (d[entry + 32] << 8) | d[entry + 33];
      file->height = (d[entry + 34] << 8) | d[entry + 35];
    }
  }
  signature->append(std::to_string(t.track_id) + ":" + t.handler + ":" +
                    std::to_string(t.timescale) + ":");
  signature->append(reinterpret_cast<const char*>(d + stsd->offset), stsd->size);
  signature->push_back('|');
  file->tracks.push_back(t);
  return Status::Ok();
}

Status ParseMoov(const uint8_t* d, const Box& moov, Fmp4File* file) {
  auto kids = Children(d, moov.body(), moov.end());
  if (!kids.ok()) return kids.status();
  std::string signature;
  for (const Box& b : *kids) {
    if (b.Is("trak")) CUSTODIAN_RETURN_IF_ERROR(ParseTrak(d, b, file, &signature));
  }
  if (file->video_index < 0) return InvalidArgument("mp4: no video track");
  const Box* mvex = Find(*kids, "mvex");
  if (!mvex) return InvalidArgument("mp4: not a fragmented file (no mvex)");
  auto ext = Children(d, mvex->body(), mvex->end());
  if (!ext.ok()) return ext.status();
  for (const Box& b : *ext) {
    if (!b.Is("trex") || b.size < 32) continue;
    const uint32_t id = Be32(d + b.body() + 4);
    for (Fmp4Track& t : file->tracks) {
      if (t.track_id != id) continue;
      t.default_duration = Be32(d + b.body() + 12);
      t.default_flags = Be32(d + b.body() + 20);
    }
  }
  file->signature = std::move(signature);
  return Status::Ok();
}

const Fmp4Track* TrackById(const Fmp4File& file, uint32_t id) {
  for (const Fmp4Track& t : file.tracks) {
    if (t.track_id == id) return &t;
  }
  return nullptr;
}

Status ParseTraf(const uint8_t* d, const Box& moof, const Box& traf, const Fmp4File& file,
                 TrafTiming* out) {
  auto kids = Children(d, traf.body(), traf.end());
  if (!kids.ok()) return kids.status();
  const Box* tfhd = Find(*kids, "tfhd");
  const Box* tfdt = Find(*kids, "tfdt");
  if (!tfhd || !tfdt) return InvalidArgument("mp4: a fragment's track has no tfhd or tfdt");
  if (tfhd->size < 16 || tfdt->size < 16 || (d[tfdt->body()] == 1 && tfdt->size < 20)) {
    return DataLoss("mp4: a tfhd or tfdt box is too short");
  }
  const uint32_t flags = Be32(d + tfhd->body()) & 0xffffff;
  out->track_id = Be32(d + tfhd->body() + 4);
  const Fmp4Track* track = TrackById(file, out->track_id);
  if (!track) return DataLoss("mp4: fragment of unknown track " + std::to_string(out->track_id));
  size_t pos = tfhd->body() + 8;
  const size_t optional_bytes = ((flags & 0x01) ? 8 : 0) + ((flags & 0x02) ? 4 : 0) +
                                ((flags & 0x08) ? 4 : 0) + ((flags & 0x10) ? 4 : 0) +
                                ((flags & 0x20) ? 4 : 0);
  if (pos + optional_bytes > tfhd->end()) return DataLoss("mp4: truncated tfhd");
  if (flags & 0x01) pos += 8;  // base data offset
  if (flags & 0x02) pos += 4;  // sample description index
  uint32_t default_duration = track->default_duration;
  uint32_t default_flags = track->default_flags;
  if (flags & 0x08) {
    default_duration = Be32(d + pos);
    pos += 4;
  }
  if (flags & 0x10) pos += 4;  // default sample size
  if (flags & 0x20) default_flags = Be32(d + pos);

  out->tfdt_offset = tfdt->offset - moof.offset;
  out->tfdt_version = d[tfdt->body()];
  out->decode_time =
      out->tfdt_version == 1 ? Be64(d + tfdt->body() + 4) : Be32(d + tfdt->body() + 4);
  out->duration = 0;
  bool first_sample = true;
  for (const Box& b : *kids) {
    if (!b.Is("trun")) continue;
    if (b.size < 16) return DataLoss("mp4: truncated trun");
    const uint32_t tflags = Be32(d + b.body()) & 0xffffff;
    const uint32_t count = Be32(d + b.body() + 4);
    size_t p = b.body() + 8;
    if (tflags & 0x001) p += 4;  // data offset
    if (p + 4 > b.end()) return DataLoss("mp4: truncated trun");
    uint32_t first_flags = default_flags;
    if (tflags & 0x004) {
      first_flags = Be32(d + p);
      p += 4;
    }
    const size_t per_sample = 4 * (((tflags & 0x100) != 0) + ((tflags & 0x200) != 0) +
                                   ((tflags & 0x400) != 0) + ((tflags & 0x800) != 0));
    if (count > (1u << 24) || count > (b.end() - p) / (per_sample == 0 ? 1 : per_sample) ||
        p + per_sample * count > b.end()) {
      return DataLoss("mp4: truncated trun");
    }
    for (uint32_t i = 0; i < count; ++i) {
      size_t q = p + per_sample * i;
      uint32_t duration = default_duration;
      if (tflags & 0x100) {
        duration = Be32(d + q);
        q += 4;
      }
      if (tflags & 0x200) q += 4;
      uint32_t sample_flags = i == 0 ? first_flags : default_flags;
      if (tflags & 0x400) sample_flags = (i == 0 && (tflags & 0x004)) ? first_flags : Be32(d + q);
      if (first_sample) out->starts_with_sync = (sample_flags & kNonSyncFlag) == 0;
      first_sample = false;
      out->duration += duration;
    }
  }
  return Status::Ok();
}

Status ParseMoof(const uint8_t* d, const Box& moof, const Fmp4File& file, Fmp4Fragment* f) {
  auto kids = Children(d, moof.body(), moof.end());
  if (!kids.ok()) return kids.status();
  const Box* mfhd = Find(*kids, "mfhd");
  if (!mfhd || mfhd->size < 16) return DataLoss("mp4: moof without a whole mfhd");
  f->mfhd_offset = mfhd->offset - moof.offset;
  for (const Box& b : *kids) {
    if (!b.Is("traf")) continue;
    TrafTiming t;
    CUSTODIAN_RETURN_IF_ERROR(ParseTraf(d, moof, b, file, &t));
    f->trafs.push_back(t);
  }
  return Status::Ok();
}

}  // namespace

const TrafTiming* Fmp4File::VideoTiming(const Fmp4Fragment& f) const {
  for (const TrafTiming& t : f.trafs) {
    if (t.track_id == video().track_id) return &t;
  }
  return nullptr;
}

Result<Fmp4File> ParseFmp4(const uint8_t* data, size_t size) {
  auto top = Children(data, 0, size);
  if (!top.ok()) return top.status();
  if (top->empty() || !top->front().Is("ftyp")) return InvalidArgument("mp4: no ftyp box first");
  Fmp4File file;
  bool have_moov = false;
  for (size_t i = 0; i < top->size(); ++i) {
    const Box& b = (*top)[i];
    if (b.Is("moov")) {
      CUSTODIAN_RETURN_IF_ERROR(ParseMoov(data, b, &file));
      file.header_size = b.end();
      have_moov = true;
    } else if (b.Is("moof")) {
      if (!have_moov) return InvalidArgument("mp4: fragment before moov");
      if (i + 1 >= top->size() || !(*top)[i + 1].Is("mdat")) {
        return DataLoss("mp4: fragment at offset " + std::to_string(b.offset) + " has no mdat");
      }
      Fmp4Fragment f;
      f.moof_offset = b.offset;
      f.moof_size = b.size;
      f.mdat_offset = (*top)[i + 1].offset;
      f.mdat_size = (*top)[i + 1].size;
      CUSTODIAN_RETURN_IF_ERROR(ParseMoof(data, b, file, &f));
      if (!file.VideoTiming(f)) {
        return InvalidArgument("mp4: fragment at offset " + std::to_string(b.offset) +
                               " has no video");
      }
      file.fragments.push_back(std::move(f));
      ++i;
    }
  }
  if (!have_moov) return InvalidArgument("mp4: no moov box");
  return file;
}

Result<std::vector<uint8_t>> PatchMoof(const uint8_t* file_data, const Fmp4Fragment& fragment,
                                       const Fmp4File& file, uint32_t sequence,
                                       const std::vector<uint64_t>& decode_times) {
  std::vector<uint8_t> moof(file_data + fragment.moof_offset,
                            file_data + fragment.moof_offset + fragment.moof_size);
  // mfhd: header (8), version/flags (4), sequence number.
  PutBe32(moof.data() + fragment.mfhd_offset + 12, sequence);
  for (const TrafTiming& t : fragment.trafs) {
    size_t index = 0;
    while (index < file.tracks.size() && file.tracks[index].track_id != t.track_id) ++index;
    if (index >= decode_times.size()) return Internal("mp4: no decode time for a track");
    uint8_t* body = moof.data() + t.tfdt_offset + 8;
    if (t.tfdt_version == 1) {
      PutBe64(body + 4, decode_times[index]);
    } else {
      if (decode_times[index] > UINT32_MAX) {
        return InvalidArgument("mp4: decode time does not fit a version-0 tfdt");
      }
      PutBe32(body + 4, static_cast<uint32_t>(decode_times[index]));
    }
  }
  return moof;
}

}  // namespace custodian::exports
