// RAII owners for the GLib/GStreamer handles the simulator holds.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

namespace custodian::sim {

struct GstObjectUnref {
  void operator()(gpointer p) const { gst_object_unref(p); }
};
struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
struct GstMiniObjectUnref {
  void operator()(gpointer p) const { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }
};
struct GErrorFree {
  void operator()(GError* e) const { g_error_free(e); }
};
struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};

using ElementPtr = std::unique_ptr<GstElement, GstObjectUnref>;
using BusPtr = std::unique_ptr<GstBus, GstObjectUnref>;
using PadPtr = std::unique_ptr<GstPad, GstObjectUnref>;
using CapsPtr = std::unique_ptr<GstCaps, GstMiniObjectUnref>;
using BufferPtr = std::unique_ptr<GstBuffer, GstMiniObjectUnref>;
using MessagePtr = std::unique_ptr<GstMessage, GstMiniObjectUnref>;
using ErrorPtr = std::unique_ptr<GError, GErrorFree>;
using GCharPtr = std::unique_ptr<gchar, GFree>;

// Runs `pipeline` (already built) to end of stream. Sets it to NULL before returning.
// Fails with the first error message the bus carries, or when timeout_s passes.
inline bool RunToEos(GstElement* pipeline, int timeout_s, std::string* error) {
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "pipeline refused to start";
    gst_element_set_state(pipeline, GST_STATE_NULL);
    return false;
  }
  BusPtr bus(gst_element_get_bus(pipeline));
  MessagePtr msg(
      gst_bus_timed_pop_filtered(bus.get(), static_cast<GstClockTime>(timeout_s) * GST_SECOND,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  bool ok = msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
  if (!msg) {
    *error = "timed out after " + std::to_string(timeout_s) + " s";
  } else if (!ok) {
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg.get(), &err, &debug);
    ErrorPtr err_owner(err);
    GCharPtr debug_owner(debug);
    *error = std::string(err ? err->message : "unknown error") + " (" + (debug ? debug : "") + ")";
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return ok;
}

}  // namespace custodian::sim
