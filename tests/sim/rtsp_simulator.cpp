#include "tests/sim/rtsp_simulator.h"

#include <gst/rtsp-server/rtsp-server.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>

#include "base/clock.h"
#include "base/log.h"
#include "base/mutex.h"
#include "tests/sim/gst_handles.h"
#include "tests/sim/stream_pipeline.h"
#include "tests/sim/strict_digest_auth.h"

namespace custodian::sim {

namespace {

constexpr const char* kRealm = "custodian-sim";
constexpr const char* kAnonymousRole = "anonymous";
// Client object data: the SimStream a client last asked for (set by request hooks).
constexpr const char* kClientStreamKey = "custodian-sim-stream";
// How long shutdown waits for the server to stop the pipelines of the clients it closed
// before stopping them itself.
constexpr int kStopPatienceMs = 3000;

int64_t NowMonotonicUs() { return SystemClock::Instance().Monotonic().us; }

std::string UserRole(const std::string& user) { return "user:" + user; }

// "/lobby/stream=0" -> "lobby"
std::string FirstPathComponent(const char* abspath) {
  std::string path = abspath ? abspath : "";
  size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) return "";
  size_t end = path.find('/', start);
  return path.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// What gst-rtsp-server's threads may reach: client threads look streams up by name, and
// media pipelines are recorded so that shutdown can stop every one of them. Shared by the
// Impl and by each signal connection that hands it to those threads, so it outlives
// whatever thread still runs after the Impl is destroyed.
class SharedState {
 public:
  std::map<std::string, std::shared_ptr<SimStream>> by_name;  // immutable after Init

  // Records a media whose pipeline is being built, and forgets those that only this list
  // still holds (the server is done with them; any still running is stopped).
  void AddMedia(GstRTSPMedia* media) {
    std::vector<MediaPtr> done;
    {
      MutexLock lock(mu_);
      auto unused = std::stable_partition(media_.begin(), media_.end(), [](const MediaPtr& m) {
        return G_OBJECT(m.get())->ref_count > 1;
      });
      std::move(unused, media_.end(), std::back_inserter(done));
      media_.erase(unused, media_.end());
      media_.emplace_back(GST_RTSP_MEDIA(g_object_ref(media)));
    }
    for (const MediaPtr& m : done) ForceStop(m.get());
  }

  // Whether a recorded pipeline is still running; forgets those that have stopped.
  bool AnyMediaRunning() {
    MutexLock lock(mu_);
    std::erase_if(media_, [](const MediaPtr& m) { return Unprepared(m.get()); });
    return !media_.empty();
  }

  // Stops every recorded pipeline the server has not stopped. On return no pipeline's
  // streaming thread runs: setting a pipeline to NULL joins them.
  void ForceStopAll() {
    std::vector<MediaPtr> media;
    {
      MutexLock lock(mu_);
      media.swap(media_);
    }
    for (const MediaPtr& m : media) ForceStop(m.get());
  }

 private:
  using MediaPtr = std::unique_ptr<GstRTSPMedia, GObjectUnref>;
  static bool Unprepared(GstRTSPMedia* media) {
    return gst_rtsp_media_get_status(media) == GST_RTSP_MEDIA_STATUS_UNPREPARED;
  }
  // Sets the whole pipeline of a media the server has not stopped to NULL.
  static void ForceStop(GstRTSPMedia* media) {
    if (Unprepared(media)) return;
    LogWarn("sim") << "stopping a pipeline its server left running";
    ElementPtr element(gst_rtsp_media_get_element(media));
    if (!element) return;
    GstElement* top = element.get();
    while (GST_ELEMENT_PARENT(top)) top = GST_ELEMENT_PARENT(top);
    gst_element_set_state(top, GST_STATE_NULL);
  }
  Mutex mu_;
  std::vector<MediaPtr> media_ GUARDED_BY(mu_);
};

// Signal user data holding shared ownership, released when the signal is disconnected.
template <typename T>
gpointer NewRef(std::shared_ptr<T> p) {
  return new std::shared_ptr<T>(std::move(p));
}
template <typename T>
void DeleteRef(gpointer data, GClosure*) {
  delete static_cast<std::shared_ptr<T>*>(data);
}
template <typename T>
T& Deref(gpointer data) {
  return **static_cast<std::shared_ptr<T>*>(data);
}

// The media-configure handler's data: the stream a factory serves, and the shared state.
struct MountRef {
  std::shared_ptr<SimStream> stream;
  std::shared_ptr<SharedState> shared;
};

}  // namespace

class Simulator::Impl {
 public:
  ~Impl();
  Status Init(const SimulatorConfig& config);
  int port() const { return gst_rtsp_server_get_bound_port(server_.get()); }
  const std::string& address() const { return address_; }
  bool tls() const { return tls_; }
  Result<std::string> Execute(const SimCommand& command);

 private:
  Status LoadStreams(const SimulatorConfig& config);
  Status ConfigureAuth(const std::string& tls_pem, const std::string& digest);
  Status SetCertificate(const std::string& pem);
  void Mount(const std::shared_ptr<SimStream>& stream, GstRTSPMountPoints* mounts);
  // Streams named by a command target; NotFound for an unknown name.
  Result<std::vector<SimStream*>> Targets(const std::string& target);
  // Closes the connections and sessions of the given streams' clients (of every client, for
  // nullptr); returns how many.
  int DropClients(const std::vector<SimStream*>* streams);
  int CountClients(const SimStream* stream);

  static void OnClientConnected(GstRTSPServer*, GstRTSPClient* client, gpointer shared);
  static GstRTSPStatusCode OnPreRequest(GstRTSPClient* client, GstRTSPContext* ctx,
                                        gpointer shared);
  static void OnMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer mount);

  std::string address_;
  std::unique_ptr<GstRTSPServer, GObjectUnref> server_;
  std::unique_ptr<GstRTSPAuth, GObjectUnref> auth_;
  bool tls_ = false;  // serving RTSPS
  guint source_id_ = 0;
  std::vector<std::shared_ptr<SimStream>> streams_;
  std::shared_ptr<SharedState> shared_ = std::make_shared<SharedState>();
};

// Stops listening first (so no client arrives meanwhile), then closes every client and
// waits for the server to stop their pipelines, which it does from its client threads;
// a client caught mid-request can still build a pipeline meanwhile, so this repeats until
// no client and no running pipeline is left. Whatever still runs after kStopPatienceMs is
// stopped here. A pipeline left running would go on reading its stream and clip from its
// streaming threads while the process exits.
Simulator::Impl::~Impl() {
  if (!server_) return;
  if (source_id_) g_source_remove(source_id_);
  const int64_t deadline_us = NowMonotonicUs() + int64_t{kStopPatienceMs} * 1000;
  for (;;) {
    int dropped = DropClients(nullptr);
    if ((dropped == 0 && !shared_->AnyMediaRunning()) || NowMonotonicUs() >= deadline_us) break;
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(5'000);
  }
  shared_->ForceStopAll();
}

Status Simulator::Impl::Init(const SimulatorConfig& config) {
  address_ = config.address;
  CUSTODIAN_RETURN_IF_ERROR(LoadStreams(config));
  server_.reset(gst_rtsp_server_new());
  gst_rtsp_server_set_address(server_.get(), config.address.c_str());
  gst_rtsp_server_set_service(server_.get(), std::to_string(config.port).c_str());
  CUSTODIAN_RETURN_IF_ERROR(ConfigureAuth(config.tls_pem, config.digest));
  tls_ = !config.tls_pem.empty();

  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server_.get());
  for (auto& s : streams_) Mount(s, mounts);
  g_object_unref(mounts);

  g_signal_connect_data(server_.get(), "client-connected", G_CALLBACK(OnClientConnected),
                        NewRef(shared_), DeleteRef<SharedState>, GConnectFlags{});
  source_id_ = gst_rtsp_server_attach(server_.get(), nullptr);
  if (source_id_ == 0) {
    return Unavailable("cannot listen on " + config.address + ":" + std::to_string(config.port));
  }
  return Status::Ok();
}

Status Simulator::Impl::LoadStreams(const SimulatorConfig& config) {
  if (config.streams.empty()) return InvalidArgument("no streams to serve");
  std::map<std::string, std::shared_ptr<const Clip>> clips;  // one copy per file
  for (size_t i = 0; i < config.streams.size(); ++i) {
    auto stream = std::make_shared<SimStream>();
    stream->spec = config.streams[i];
    if (shared_->by_name.count(stream->spec.name)) {
      return InvalidArgument("stream name '" + stream->spec.name + "' is used twice");
    }
    if (stream->spec.source == SourceKind::kFile) {
      const std::string& path = i < config.clip_paths.size() ? config.clip_paths[i] : "";
      if (path.empty()) return InvalidArgument("stream '" + stream->spec.name + "' has no clip");
      auto& clip = clips[path];
      if (!clip) {
        auto loaded = Clip::Load(path);
        if (!loaded.ok()) return loaded.status();
        clip = std::move(*loaded);
        LogInfo("sim") << "loaded clip " << path << ": " << clip->video().samples.size()
                       << " frames, " << clip->total_bytes() / 1024 << " KiB, loop "
                       << clip->loop_duration_ns() / GST_MSECOND << " ms"
                       << (clip->audio() ? ", with AAC audio" : "");
      }
      stream->clip = clip;
    }
    shared_->by_name[stream->spec.name] = stream;
    streams_.push_back(std::move(stream));
  }
  return Status::Ok();
}

Status Simulator::Impl::SetCertificate(const std::string& pem) {
  GError* error = nullptr;
  GTlsCertificate* cert = g_tls_certificate_new_from_file(pem.c_str(), &error);
  if (!cert) {
    std::string why = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return InvalidArgument("cannot load the TLS certificate " + pem + ": " + why);
  }
  gst_rtsp_auth_set_tls_certificate(auth_.get(), cert);
  g_object_unref(cert);
  return Status::Ok();
}

Status Simulator::Impl::ConfigureAuth(const std::string& tls_pem, const std::string& digest) {
  if (!digest.empty() && digest != "auth-int-userhash") {
    return InvalidArgument("--digest: expected auth-int-userhash");
  }
  std::map<std::string, std::string> passwords;
  for (auto& s : streams_) {
    const StreamSpec& spec = s->spec;
    if (spec.user.empty()) continue;
    auto [it, inserted] = passwords.emplace(spec.user, spec.password);
    if (!inserted && it->second != spec.password) {
      return InvalidArgument("user '" + spec.user + "' has different passwords on two streams");
    }
  }
  // No auth object: every request is allowed. TLS needs one, to hold the certificate.
  if (passwords.empty() && tls_pem.empty()) return Status::Ok();

  const bool strict = !digest.empty();
  auth_.reset(strict ? NewStrictDigestAuth(kRealm) : gst_rtsp_auth_new());
  if (!tls_pem.empty()) CUSTODIAN_RETURN_IF_ERROR(SetCertificate(tls_pem));
  gst_rtsp_auth_set_supported_methods(auth_.get(), GST_RTSP_AUTH_DIGEST);
  gst_rtsp_auth_set_realm(auth_.get(), kRealm);
  GstRTSPToken* anonymous =
      gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, kAnonymousRole, nullptr);
  gst_rtsp_auth_set_default_token(auth_.get(), anonymous);
  if (strict) StrictDigestSetDefaultToken(auth_.get(), anonymous);
  gst_rtsp_token_unref(anonymous);
  for (const auto& [user, password] : passwords) {
    GstRTSPToken* token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                                             UserRole(user).c_str(), nullptr);
    if (strict) {
      StrictDigestAddUser(auth_.get(), user, password, token);
    } else {
      gst_rtsp_auth_add_digest(auth_.get(), user.c_str(), password.c_str(), token);
    }
    gst_rtsp_token_unref(token);
  }
  gst_rtsp_server_set_auth(server_.get(), auth_.get());
  return Status::Ok();
}

void Simulator::Impl::Mount(const std::shared_ptr<SimStream>& shared_stream,
                            GstRTSPMountPoints* mounts) {
  const SimStream& stream = *shared_stream;
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, LaunchDescription(stream).c_str());
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  g_signal_connect_data(factory, "media-configure", G_CALLBACK(OnMediaConfigure),
                        NewRef(std::make_shared<MountRef>(MountRef{shared_stream, shared_})),
                        DeleteRef<MountRef>, GConnectFlags{});

  if (auth_) {
    // Anyone may look a protected stream up but only its user may open it: the "construct"
    // check is what answers 401 with a digest challenge (a failed "access" check is a 404).
    auto allow = [&](const std::string& role, bool construct) {
      gst_rtsp_media_factory_add_role(factory, role.c_str(), GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                      G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                      G_TYPE_BOOLEAN, construct ? TRUE : FALSE, nullptr);
    };
    const bool open = stream.spec.user.empty();
    allow(kAnonymousRole, open);
    for (auto& other : streams_) {
      const std::string& user = other->spec.user;
      if (!user.empty()) allow(UserRole(user), open || user == stream.spec.user);
    }
  }
  std::string path = "/" + stream.spec.name;
  gst_rtsp_mount_points_add_factory(mounts, path.c_str(), factory);  // takes the factory
}

void Simulator::Impl::OnMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer mount) {
  MountRef& m = Deref<MountRef>(mount);
  LogInfo("sim") << "stream " << m.stream->spec.name
                 << ": starting a pipeline for its first client";
  m.shared->AddMedia(media);
  ConfigureMedia(m.stream, media);
}

void Simulator::Impl::OnClientConnected(GstRTSPServer*, GstRTSPClient* client, gpointer shared) {
  // Not pre-options-request: an error answer from it double-frees in gst-rtsp-server 1.22.0.
  for (const char* signal : {"pre-describe-request", "pre-setup-request", "pre-play-request"}) {
    g_signal_connect_data(client, signal, G_CALLBACK(OnPreRequest),
                          NewRef(*static_cast<std::shared_ptr<SharedState>*>(shared)),
                          DeleteRef<SharedState>, GConnectFlags{});
  }
}

// Runs on a client thread before each request is handled: remembers which stream the
// client is after, and turns it away while the stream is refused.
GstRTSPStatusCode Simulator::Impl::OnPreRequest(GstRTSPClient* client, GstRTSPContext* ctx,
                                                gpointer shared) {
  const SharedState& state = Deref<SharedState>(shared);
  if (!ctx->uri) return GST_RTSP_STS_OK;
  auto it = state.by_name.find(FirstPathComponent(ctx->uri->abspath));
  if (it == state.by_name.end()) return GST_RTSP_STS_OK;
  SimStream* stream = it->second.get();
  g_object_set_data(G_OBJECT(client), kClientStreamKey, stream);
  if (NowMonotonicUs() < stream->refused_until_us.load()) {
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  return GST_RTSP_STS_OK;
}

Result<std::vector<SimStream*>> Simulator::Impl::Targets(const std::string& target) {
  std::vector<SimStream*> out;
  if (target == kAllStreams) {
    for (auto& s : streams_) out.push_back(s.get());
    return out;
  }
  auto it = shared_->by_name.find(target);
  if (it == shared_->by_name.end()) return NotFound("no stream named '" + target + "'");
  out.push_back(it->second.get());
  return out;
}

int Simulator::Impl::DropClients(const std::vector<SimStream*>* streams) {
  struct Match {
    const std::vector<SimStream*>* streams;  // nullptr: every client
    GstRTSPSessionPool* pool;
    int dropped = 0;
  };
  Match match{streams, gst_rtsp_server_get_session_pool(server_.get())};
  auto filter = [](GstRTSPServer*, GstRTSPClient* client, gpointer data) {
    auto* m = static_cast<Match*>(data);
    auto* s = static_cast<SimStream*>(g_object_get_data(G_OBJECT(client), kClientStreamKey));
    bool hit = m->streams == nullptr;
    if (m->streams) {
      for (SimStream* want : *m->streams) hit = hit || want == s;
    }
    if (!hit) return GST_RTSP_FILTER_KEEP;
    // Removing the sessions too stops RTP over UDP, which would outlive the connection.
    GList* sessions = gst_rtsp_client_session_filter(client, nullptr, nullptr);
    for (GList* l = sessions; l; l = l->next) {
      gst_rtsp_session_pool_remove(m->pool, GST_RTSP_SESSION(l->data));
    }
    g_list_free_full(sessions, g_object_unref);
    ++m->dropped;
    return GST_RTSP_FILTER_REMOVE;  // the server closes the connection
  };
  GList* kept = gst_rtsp_server_client_filter(server_.get(), filter, &match);
  g_list_free_full(kept, g_object_unref);
  g_object_unref(match.pool);
  return match.dropped;
}

int Simulator::Impl::CountClients(const SimStream* stream) {
  struct Count {
    const SimStream* stream;
    int n = 0;
  };
  Count count{stream};
  auto filter = [](GstRTSPServer*, GstRTSPClient* client, gpointer data) {
    auto* c = static_cast<Count*>(data);
    if (g_object_get_data(G_OBJECT(client), kClientStreamKey) == c->stream) ++c->n;
    return GST_RTSP_FILTER_KEEP;
  };
  GList* kept = gst_rtsp_server_client_filter(server_.get(), filter, &count);
  g_list_free_full(kept, g_object_unref);
  return count.n;
}

Result<std::string> Simulator::Impl::Execute(const SimCommand& command) {
  if (command.kind == SimCommand::Kind::kQuit) {
    return InvalidArgument("quit is for the main loop, not the server");
  }
  if (command.kind == SimCommand::Kind::kCertificate) {
    if (!tls_) return FailedPrecondition("not serving RTSPS (start with --tls PEM)");
    CUSTODIAN_RETURN_IF_ERROR(SetCertificate(command.target));
    int n = DropClients(nullptr);
    LogInfo("sim") << "serving certificate " << command.target << "; dropped " << n << " client(s)";
    return std::string();
  }
  auto targets = Targets(command.target);
  if (!targets.ok()) return targets.status();
  const int64_t until_us = NowMonotonicUs() + command.duration_us;
  switch (command.kind) {
    case SimCommand::Kind::kDrop: {
      int n = DropClients(&*targets);
      LogInfo("sim") << "dropped " << n << " client(s) of " << command.target;
      return std::string();
    }
    case SimCommand::Kind::kRefuse: {
      for (SimStream* s : *targets) s->refused_until_us = until_us;
      int n = DropClients(&*targets);
      LogInfo("sim") << "refusing " << command.target << " for " << command.duration_us / 1000
                     << " ms; dropped " << n << " client(s)";
      return std::string();
    }
    case SimCommand::Kind::kStall:
      for (SimStream* s : *targets) s->stalled_until_us = until_us;
      LogInfo("sim") << "stalling " << command.target << " for " << command.duration_us / 1000
                     << " ms; connections stay open";
      return std::string();
    case SimCommand::Kind::kClients:
      return std::to_string(CountClients(targets->front()));
    case SimCommand::Kind::kCertificate:
    case SimCommand::Kind::kQuit:
      break;
  }
  return Internal("unhandled command '" + command.text + "'");
}

Result<std::unique_ptr<Simulator>> Simulator::Start(const SimulatorConfig& config) {
  auto impl = std::make_unique<Impl>();
  CUSTODIAN_RETURN_IF_ERROR(impl->Init(config));
  return std::unique_ptr<Simulator>(new Simulator(std::move(impl)));
}

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Simulator::~Simulator() = default;

int Simulator::port() const { return impl_->port(); }

std::string Simulator::base_url() const {
  return (impl_->tls() ? "rtsps://" : "rtsp://") + impl_->address() + ":" + std::to_string(port());
}

Result<std::string> Simulator::Execute(const SimCommand& command) {
  return impl_->Execute(command);
}

}  // namespace custodian::sim
