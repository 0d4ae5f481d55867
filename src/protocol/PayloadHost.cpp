// Host announcements, host → registry (docs/PROTOCOL.md §12).
#include <algorithm>

#include "PayloadCodec.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {

void visitAnnouncement(const HostAnnouncement& a, AnnouncementFields& to) {
  to.text("version", a.version);
  to.text("key", formatEd25519Key(a.key));
  to.text("host", a.host);
  to.integer("instances", a.instances);
  to.integer("free", a.free);
  to.integer("cpuMillis", a.cpuMillis);
  to.integer("memoryMiB", a.memoryMiB);
  to.integer("swapMiB", a.swapMiB);
  to.integer("diskMiB", a.diskMiB);
  to.drops("price", a.price);
  to.integer("momentSeconds", a.momentSeconds);
  to.integer("maxMoments", a.maxMoments);
  to.list("images", a.images);
  to.integer("heartbeatSeconds", a.heartbeatSeconds);
  to.integer("time", a.time);
}

namespace json {
namespace {

// The payload form: drops as a decimal string.
class PayloadFields final : public AnnouncementFields {
 public:
  explicit PayloadFields(Writer& w) : w_(w) {}
  void text(std::string_view name, std::string_view value) override { str(w_, name, value); }
  void integer(std::string_view name, std::uint64_t value) override { num(w_, name, value); }
  void drops(std::string_view name, Drops value) override { str(w_, name, formatDrops(value)); }
  void list(std::string_view name, const std::vector<std::string>& values) override {
    w_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w_.StartArray();
    for (const auto& v : values) w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w_.EndArray();
  }

 private:
  Writer& w_;
};

}  // namespace

core::Status read(JsonObject& o, HostAnnouncement& r) {
  SASHI_TRY_ASSIGN(version, getString(o, "version", 32));
  SASHI_TRY(checkPattern(o.at("version"), version, validateVersionString));
  r.version = std::move(version);
  SASHI_TRY_ASSIGN(key, getKey(o, "key"));
  r.key = key;
  SASHI_TRY_ASSIGN(host, getString(o, "host", 253));
  SASHI_TRY(checkPattern(o.at("host"), host, validateHost));
  r.host = std::move(host);
  SASHI_TRY_ASSIGN(instances, getUint(o, "instances", 0, kMaxJsonInteger));
  r.instances = instances;
  SASHI_TRY_ASSIGN(free, getUint(o, "free", 0, r.instances));
  r.free = free;
  SASHI_TRY_ASSIGN(cpu, getUint(o, "cpuMillis", 0, kMaxJsonInteger));
  r.cpuMillis = cpu;
  SASHI_TRY_ASSIGN(mem, getUint(o, "memoryMiB", 0, kMaxJsonInteger));
  r.memoryMiB = mem;
  SASHI_TRY_ASSIGN(swap, getUint(o, "swapMiB", 0, kMaxJsonInteger));
  r.swapMiB = swap;
  SASHI_TRY_ASSIGN(disk, getUint(o, "diskMiB", 0, kMaxJsonInteger));
  r.diskMiB = disk;
  SASHI_TRY_ASSIGN(price, getDrops(o, "price", 1));
  r.price = price;
  SASHI_TRY_ASSIGN(ms, getUint(o, "momentSeconds", 1, kMaxJsonInteger));
  r.momentSeconds = ms;
  SASHI_TRY_ASSIGN(mm, getUint(o, "maxMoments", 1, kMaxJsonInteger));
  r.maxMoments = mm;
  SASHI_TRY_ASSIGN(images, getArray(o, "images"));
  if (images->Empty() || images->Size() > kMaxAnnouncedImages) {
    return bad(o.at("images"), "expected 1.." + std::to_string(kMaxAnnouncedImages) + " images");
  }
  for (rapidjson::SizeType i = 0; i < images->Size(); ++i) {
    std::string path = o.at("images") + "[" + std::to_string(i) + "]";
    SASHI_TRY_ASSIGN(img, asString((*images)[i], path, 64));
    SASHI_TRY(checkPattern(path, img, validateImageName));
    if (std::find(r.images.begin(), r.images.end(), img) != r.images.end())
      return bad(path, "duplicate image");
    r.images.push_back(std::move(img));
  }
  SASHI_TRY_ASSIGN(hb, getUint(o, "heartbeatSeconds", 1, kMaxJsonInteger));
  r.heartbeatSeconds = hb;
  SASHI_TRY_ASSIGN(time, getUint(o, "time", 0, kMaxJsonInteger));
  r.time = time;
  return o.finish();
}

void write(Writer& w, const HostAnnouncement& m) {
  PayloadFields fields(w);
  visitAnnouncement(m, fields);
}

}  // namespace json
}  // namespace sashimono::protocol
