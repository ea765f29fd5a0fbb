#include "exports/hash_worker.h"

namespace custodian::exports {

HashWorker::HashWorker() : thread_([this] { Loop(); }) {}

HashWorker::~HashWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HashWorker::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

int HashWorker::Begin() {
  int stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream = next_stream_++;
  }
  Submit([this, stream] { streams_.emplace(stream, Sha256()); });
  return stream;
}

void HashWorker::Update(int stream, std::shared_ptr<const void> keep, const uint8_t* data,
                        size_t size) {
  Submit([this, stream, keep = std::move(keep), data, size] {
    streams_.at(stream).Update(data, size);
  });
}

std::future<std::string> HashWorker::Finish(int stream) {
  auto promise = std::make_shared<std::promise<std::string>>();
  std::future<std::string> result = promise->get_future();
  Submit([this, stream, promise] {
    auto it = streams_.find(stream);
    promise->set_value(it->second.FinishHex());
    streams_.erase(it);
  });
  return result;
}

void HashWorker::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace custodian::exports
