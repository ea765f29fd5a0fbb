#include "exports/timed_text.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace custodian::exports {

namespace {

// Builds big-endian box bytes; Open/Close nest boxes and fill in their sizes.
class BoxWriter {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    U32(static_cast<uint32_t>(v));
  }
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  void Bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void Text(const std::string& s) { Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
  void Open(const char* type) {
    open_.push_back(out_.size());
    U32(0);
    Bytes(reinterpret_cast<const uint8_t*>(type), 4);
  }
  void OpenFull(const char* type, uint8_t version, uint32_t flags) {
    Open(type);
    U32((uint32_t{version} << 24) | (flags & 0xffffff));
  }
  void Close() {
    const size_t at = open_.back();
    open_.pop_back();
    Put32(at, static_cast<uint32_t>(out_.size() - at));
  }
  void Put32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
  std::vector<size_t> open_;
};

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

struct RawBox {
  size_t offset = 0;
  size_t size = 0;
  std::string type;
};

// The boxes in [begin, end); only the 32-bit sizes a header's boxes use.
Result<std::vector<RawBox>> Boxes(const uint8_t* d, size_t begin, size_t end) {
  std::vector<RawBox> out;
  for (size_t pos = begin; pos < end;) {
    if (end - pos < 8) return InvalidArgument("mp4 header: truncated box");
    const uint32_t size = Be32(d + pos);
    if (size < 8 || size > end - pos) {
      return InvalidArgument("mp4 header: box at offset " + std::to_string(pos) +
                             " does not fit its parent");
    }
    out.push_back({pos, size, std::string(reinterpret_cast<const char*>(d + pos + 4), 4)});
    pos += size;
  }
  return out;
}

// The unity matrix of tkhd and mvhd.
void Matrix(BoxWriter& w) {
  const uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (uint32_t v : m) w.U32(v);
}

// The fields of the tx3g sample entry after its data_reference_index: centred at the
// bottom, white sans-serif on a half-transparent black box, so the text reads on any picture.
void TextSampleFields(BoxWriter& w) {
  w.U32(0);           // display flags
  w.U8(1);            // horizontal justification: centre
  w.U8(0xff);         // vertical justification: bottom (-1)
  w.U32(0x000000a0);  // background RGBA
  w.Zeros(8);         // default text box: the player's choice
  w.U16(0);           // style record: start char
  w.U16(0);           // end char
  w.U16(1);           // font id
  w.U8(0);            // face style: plain
  w.U8(18);           // font size
  w.U32(0xffffffff);  // text RGBA
  w.Open("ftab");
  w.U16(1);
  w.U16(1);
  const std::string font = "Sans-Serif";
  w.U8(static_cast<uint8_t>(font.size()));
  w.Text(font);
  w.Close();
}

void TextSampleEntry(BoxWriter& w) {
  w.Open("tx3g");
  w.Zeros(6);
  w.U16(1);  // data_reference_index
  TextSampleFields(w);
  w.Close();
}

void TextTrak(BoxWriter& w, uint32_t track_id, int width, int height) {
  w.Open("trak");
  w.OpenFull("tkhd", 0, 0x3);  // enabled, in the movie
  w.U32(0);                    // creation
  w.U32(0);                    // modification
  w.U32(track_id);
  w.U32(0);
  w.U32(0);  // duration: fragmented
  w.Zeros(8);
  w.U16(0);  // layer
  w.U16(0);  // alternate group
  w.U16(0);  // volume
  w.U16(0);
  Matrix(w);
  w.U32(static_cast<uint32_t>(width) << 16);
  w.U32(static_cast<uint32_t>(height) << 16);
  w.Close();
  w.Open("mdia");
  w.OpenFull("mdhd", 0, 0);
  w.U32(0);
  w.U32(0);
  w.U32(kTimedTextTimescale);
  w.U32(0);
  w.U16(0x15c7);  // "eng", ISO 639-2/T packed
  w.U16(0);
  w.Close();
  w.OpenFull("hdlr", 0, 0);
  w.U32(0);
  w.Text("sbtl");
  w.Zeros(12);
  w.Text("Wall clock (UK local time) and camera");
  w.U8(0);
  w.Close();
  w.Open("minf");
  w.OpenFull("nmhd", 0, 0);
  w.Close();
  w.Open("dinf");
  w.OpenFull("dref", 0, 0);
  w.U32(1);
  w.OpenFull("url ", 0, 1);  // self-contained
  w.Close();
  w.Close();
  w.Close();
  w.Open("stbl");
  w.OpenFull("stsd", 0, 0);
  w.U32(1);
  TextSampleEntry(w);
  w.Close();
  for (const char* empty : {"stts", "stsc", "stco"}) {
    w.OpenFull(empty, 0, 0);
    w.U32(0);
    w.Close();
  }
  w.OpenFull("stsz", 0, 0);
  w.U32(0);
  w.U32(0);
  w.Close();
  w.Close();  // stbl
  w.Close();  // minf
  w.Close();  // mdia
  w.Close();  // trak
}

void TextTrex(BoxWriter& w, uint32_t track_id) {
  w.OpenFull("trex", 0, 0);
  w.U32(track_id);
  w.U32(1);  // sample description
  w.U32(0);
  w.U32(0);
  w.U32(0);
  w.Close();
}

// The highest track id among the moov's traks (tkhd track_ID).
Result<uint32_t> MaxTrackId(const uint8_t* d, const std::vector<RawBox>& moov_kids) {
  uint32_t max_id = 0;
  for (const RawBox& b : moov_kids) {
    if (b.type != "trak") continue;
    auto kids = Boxes(d, b.offset + 8, b.offset + b.size);
    if (!kids.ok()) return kids.status();
    for (const RawBox& k : *kids) {
      if (k.type != "tkhd" || k.size < 32) continue;
      const uint8_t version = d[k.offset + 8];
      max_id = std::max(max_id, Be32(d + k.offset + 8 + (version == 1 ? 20 : 12)));
    }
  }
  return max_id;
}

}  // namespace

std::string WallClockCueText(UtcMicros t, const std::string& camera_name, const TimeZone& zone) {
  const LocalTime l = zone.ToLocal(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%02d/%04d %02d:%02d:%02d ", l.date.day, l.date.month,
                l.date.year, l.hour, l.minute, l.second);
  return buf + l.abbreviation + " - " + camera_name;
}

std::vector<TimedTextCue> WallClockCues(UtcMicros origin, UtcMicros from, UtcMicros to,
                                        const std::string& camera_name, const TimeZone& zone) {
  std::vector<TimedTextCue> cues;
  const auto media_ms = [&](UtcMicros t) {
    return static_cast<uint64_t>(std::max<int64_t>(0, (t - origin) / 1000));
  };
  UtcMicros at = from;
  while (at < to) {
    // The next whole second of UTC (UK offsets are whole hours, so of local time too).
    const int64_t next_us = (at.us / kMicrosPerSecond + 1) * kMicrosPerSecond;
    const UtcMicros next{std::min(next_us, to.us)};
    const uint64_t start = media_ms(at), end = media_ms(next);
    if (end > start) {
      cues.push_back({start, static_cast<uint32_t>(end - start),
                      WallClockCueText(at, camera_name, zone)});
    }
    at = next;
  }
  return cues;
}

Result<std::vector<uint8_t>> AddTimedTextTrack(const uint8_t* header, size_t size, int width,
                                               int height, uint32_t* track_id) {
  auto top = Boxes(header, 0, size);
  if (!top.ok()) return top.status();
  BoxWriter w;
  bool found_moov = false;
  for (const RawBox& box : *top) {
    if (box.type != "moov") {
      w.Bytes(header + box.offset, box.size);
      continue;
    }
    found_moov = true;
    auto kids = Boxes(header, box.offset + 8, box.offset + box.size);
    if (!kids.ok()) return kids.status();
    auto max_id = MaxTrackId(header, *kids);
    if (!max_id.ok()) return max_id.status();
    const uint32_t id = *max_id + 1;
    *track_id = id;
    bool has_mvhd = false, has_mvex = false;
    size_t last_trak = 0;
    for (size_t i = 0; i < kids->size(); ++i)
      if ((*kids)[i].type == "trak") last_trak = i;
    w.Open("moov");
    for (size_t i = 0; i < kids->size(); ++i) {
      const RawBox& k = (*kids)[i];
      if (k.type == "mvhd") {
        has_mvhd = true;
        const size_t at = w.size();
        w.Bytes(header + k.offset, k.size);
        // next_track_ID is the box's last field.
        w.Put32(at + k.size - 4, std::max(Be32(header + k.offset + k.size - 4), id + 1));
      } else if (k.type == "mvex") {
        has_mvex = true;
        w.Open("mvex");
        w.Bytes(header + k.offset + 8, k.size - 8);
        TextTrex(w, id);
        w.Close();
      } else {
        w.Bytes(header + k.offset, k.size);
      }
      if (i == last_trak) TextTrak(w, id, width, height);
    }
    w.Close();
    if (!has_mvhd || !has_mvex || *max_id == 0) {
      return InvalidArgument("mp4 header: moov without mvhd, mvex or a track");
    }
  }
  if (!found_moov) return InvalidArgument("mp4 header: no moov");
  return w.Take();
}

std::vector<uint8_t> TimedTextFragment(uint32_t sequence, uint32_t track_id,
                                       const std::vector<TimedTextCue>& cues) {
  BoxWriter w;
  w.Open("moof");
  w.OpenFull("mfhd", 0, 0);
  w.U32(sequence);
  w.Close();
  w.Open("traf");
  w.OpenFull("tfhd", 0, 0x020000);  // default-base-is-moof
  w.U32(track_id);
  w.Close();
  w.OpenFull("tfdt", 1, 0);
  w.U64(cues.front().start);
  w.Close();
  // data offset, and each sample's duration, size and flags
  w.OpenFull("trun", 0, 0x000001 | 0x000100 | 0x000200 | 0x000400);
  w.U32(static_cast<uint32_t>(cues.size()));
  const size_t data_offset_at = w.size();
  w.U32(0);
  for (const TimedTextCue& c : cues) {
    w.U32(c.duration);
    w.U32(static_cast<uint32_t>(2 + c.text.size()));
    w.U32(0x02000000);  // depends on no other sample: each cue stands alone
  }
  w.Close();  // trun
  w.Close();  // traf
  w.Close();  // moof
  w.Put32(data_offset_at, static_cast<uint32_t>(w.size() + 8));
  w.Open("mdat");
  for (const TimedTextCue& c : cues) {
    w.U16(static_cast<uint16_t>(c.text.size()));
    w.Text(c.text);
  }
  w.Close();
  return w.Take();
}

std::vector<uint8_t> TimedTextSampleDescription() {
  BoxWriter w;
  TextSampleFields(w);
  return w.Take();
}

std::vector<uint8_t> TimedTextSample(const std::string& text) {
  BoxWriter w;
  w.U16(static_cast<uint16_t>(text.size()));
  w.Text(text);
  return w.Take();
}

}  // namespace custodian::exports
