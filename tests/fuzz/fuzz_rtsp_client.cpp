// Fuzz target: the RTSP/TCP client (media::rtsp::RtspTcpSource) as a hostile camera would
// drive it. The input is everything the camera sends on the connection, in order: the
// answers to OPTIONS, DESCRIBE, SETUP... and PLAY (the client numbers its requests CSeq 1,
// 2, 3...; a 401 challenge is answered with the credentials admin/pw), then interleaved
// '$' frames, keep-alive answers or requests of the camera's own. A "camera" thread
// accepts the client's real TCP connection on a loopback port, writes the whole input
// without waiting for the requests (the client only cares about the order of the bytes),
// closes its sending side and reads until the client hangs up. The client goes through
// Open and then ReadPacket until the stream ends, exactly as the recorder uses it.
//
// Any Status is fine; a crash, a sanitizer report, or an exec that waits out a timeout
// (every wait ends at the camera's end of stream, so none should) is not.
//
// Why a thread and loopback TCP rather than a socketpair: the client opens its own
// connection and has no seam to take a socket; this needs no change to it. The camera
// thread lives for the whole run, and each connection ends with a reset from the camera's
// side, so no TIME_WAIT socket accumulates.
//
// Speed: about 1500 execs/s without sanitizers, 150-450 with ASan, whose allocator maps
// and unmaps every chunk over 128 KiB (the client's receive buffer, each video frame's
// pool buffer) and page-faults it in, on every exec.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "base/log.h"
#include "base/mutex.h"
#include "media/rtsp/rtsp_tcp_source.h"

using namespace custodian;
using namespace custodian::media;
using namespace custodian::media::rtsp;

namespace {

// Bounds every wait of the client; the camera's end of stream should end each far sooner.
constexpr int64_t kTimeoutUs = 2'000'000;
constexpr int kMaxReads = 100'000;

class Camera {
 public:
  Camera() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_, 4) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::perror("fuzz_rtsp_client: loopback listener");
      std::abort();
    }
    url_ = "rtsp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/cam";
    std::thread([this] { Serve(); }).detach();  // for the life of the process
  }

  const std::string& url() const { return url_; }

  // The next connection gets `data`; WaitServed returns once that connection is over.
  void Arm(const uint8_t* data, size_t size) {
    MutexLock l(mu_);
    data_ = data;
    size_ = size;
    served_ = false;
  }
  void WaitServed() {
    MutexLock l(mu_);
    l.Wait(cv_, [this]() REQUIRES(mu_) { return served_; });
  }

 private:
  void Serve() {
    for (;;) {
      const int conn = accept(listener_, nullptr, nullptr);
      if (conn < 0) continue;
      const uint8_t* data;
      size_t size;
      {
        MutexLock l(mu_);
        data = data_;
        size = size_;
      }
      Converse(conn, data, size);
      // A reset, not a FIN: neither side keeps the connection in TIME_WAIT.
      linger no_linger{1, 0};
      setsockopt(conn, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
      close(conn);
      MutexLock l(mu_);
      served_ = true;
      cv_.notify_all();
    }
  }

  // Writes the input and reads the client's requests at the same time (neither side can
  // then block the other), until the client closes.
  static void Converse(int conn, const uint8_t* data, size_t size) {
    size_t sent = 0;
    bool shut = false;
    for (;;) {
      if (sent == size && !shut) {
        shutdown(conn, SHUT_WR);
        shut = true;
      }
      pollfd p{conn, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
      if (poll(&p, 1, 5000) <= 0) return;  // 5 s: the client is wedged; the exec times out
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        const ssize_t n = recv(conn, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
      }
      if (!shut && (p.revents & POLLOUT)) {
        const ssize_t n = send(conn, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return;
        if (n > 0) sent += static_cast<size_t>(n);
      }
    }
  }

  int listener_ = -1;
  std::string url_;
  Mutex mu_;
  std::condition_variable cv_;
  const uint8_t* data_ GUARDED_BY(mu_) = nullptr;
  size_t size_ GUARDED_BY(mu_) = 0;
  bool served_ GUARDED_BY(mu_) = true;
};

Camera& TheCamera() {
  static Camera* camera = new Camera();  // never destroyed: its thread runs to the end
  return *camera;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SetLogLevel(LogLevel::kError);  // the client warns about every odd thing a camera does
  TheCamera();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Camera& camera = TheCamera();
  camera.Arm(data, size);
  {
    RtspSourceOptions options;
    options.connect_timeout_us = kTimeoutUs;
    options.receive_buffer_bytes = 64 * 1024;  // rounded up to the minimum
    options.allow_basic_auth = true;           // reach the Basic path too
    auto opened = RtspTcpSource::Open(camera.url(), "admin", "pw", options, nullptr);
    if (opened.ok()) {
      RtspTcpSource& source = **opened;
      for (int s = 0; s < source.stream_count(); ++s) {
        (void)source.codecpar(s);
        (void)source.time_base(s);
      }
      Packet pkt = MakePacket();
      int stream = -1;
      for (int i = 0; i < kMaxReads; ++i) {
        if (!source.ReadPacket(pkt.get(), &stream, kTimeoutUs).ok()) break;
        if (stream < 0 || stream >= source.stream_count()) std::abort();
        (void)source.CameraWallClock(pkt->pts, stream);
      }
      const RtspCounters c = source.counters();
      if (c.queue_peak_packets > static_cast<int64_t>(options.max_queued_packets)) std::abort();
    }
  }  // the source closes here (TEARDOWN, close)
  camera.WaitServed();
  return 0;
}
