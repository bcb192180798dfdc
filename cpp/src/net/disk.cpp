#include "edgeswarm/net/disk.hpp"

#include <utility>

namespace edgeswarm::net {

std::uint64_t Disk::write(std::string key, Bytes value) {
  pending_.push_back(Pending{++last_id_, std::move(key), std::move(value), false});
  return last_id_;
}

std::uint64_t Disk::remove(std::string key) {
  pending_.push_back(Pending{++last_id_, std::move(key), Bytes{}, true});
  return last_id_;
}

std::size_t Disk::make_durable(std::uint64_t id) {
  std::size_t n = 0;
  while (!pending_.empty() && pending_.front().id <= id) {
    Pending& p = pending_.front();
    if (p.remove)
      durable_.erase(p.key);
    else
      durable_[std::move(p.key)] = std::move(p.value);
    durable_id_ = p.id;
    pending_.pop_front();
    ++n;
  }
  return n;
}

void Disk::crash() { pending_.clear(); }

const Bytes* Disk::read(const std::string& key) const {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
    if (it->key == key) return it->remove ? nullptr : &it->value;
  return read_durable(key);
}

const Bytes* Disk::read_durable(const std::string& key) const {
  const auto it = durable_.find(key);
  return it == durable_.end() ? nullptr : &it->second;
}

}  // namespace edgeswarm::net
