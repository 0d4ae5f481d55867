// `sashimono statefs hash`: the state hash of a directory (docs/STATEFS.md, "The command").
#include "StatefsHash.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "Options.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/TreeStore.h"

namespace sashimono::cli {

namespace {

constexpr const char* kCmd = "statefs hash";

// "hashing: 120 of 1024 MiB (11%)", rewritten in place on a terminal at most 5 times a second.
class ProgressLine {
 public:
  explicit ProgressLine(std::uint64_t total) : total_(total) {}
  ~ProgressLine() {
    if (shown_) std::fputs("\n", stderr);
  }
  void operator()(std::uint64_t done, std::uint64_t total) {
    if (total != 0) total_ = total;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    if (total_ == 0)
      std::fprintf(stderr, "\rhashing: %llu MiB ", static_cast<unsigned long long>(done >> 20));
    else
      std::fprintf(stderr, "\rhashing: %llu of %llu MiB (%llu%%) ",
                   static_cast<unsigned long long>(done >> 20), static_cast<unsigned long long>(total_ >> 20),
                   static_cast<unsigned long long>(done * 100 / std::max<std::uint64_t>(total_, 1)));
    std::fflush(stderr);
  }

 private:
  std::uint64_t total_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

std::string octal(std::uint16_t perm) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(perm));
  return buf;
}

std::string render(const statefs::StateTree& tree) {
  auto top = tree.listing("/");
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("root");
  w.String(core::toHexLower(tree.root()).c_str());
  w.Key("entries");
  w.StartArray();
  for (const auto& e : top ? *top : std::vector<statefs::TreeEntry>{}) {
    w.StartObject();
    w.Key("name");
    w.String(e.name.c_str(), static_cast<rapidjson::SizeType>(e.name.size()));
    w.Key("kind");
    w.String(statefs::entryKindName(e.kind));
    w.Key("mode");
    w.String(octal(e.perm).c_str());
    w.Key("size");
    w.Uint64(e.size);
    w.Key("hash");
    w.String(core::toHexLower(e.hash).c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

// Library errors start with "statefs: "; the command names itself already.
std::string bare(std::string msg) { return msg.rfind("statefs: ", 0) == 0 ? msg.substr(9) : msg; }

}  // namespace

int runStatefsHash(const std::string& dir, const StatefsHashArgs& a) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::optional<ProgressLine> line;
  std::optional<statefs::StateTree> tree;
  if (!a.tree.empty()) {
    if (tty) line.emplace(0);
    statefs::LoadProgress progress;
    if (line) progress = [&](std::uint64_t done, std::uint64_t total) { (*line)(done, total); };
    auto loaded = statefs::TreeStore::load(dir, a.tree, progress);
    line.reset();
    if (!loaded) return failure(kCmd, bare(loaded.error().message));
    std::cerr << "sashimono statefs hash: " << statefs::describe(loaded->report) << "\n";
    if (auto st = loaded->store.save(loaded->tree, true); !st) return failure(kCmd, st.error().message);
    tree.emplace(std::move(loaded->tree));
  } else {
    if (tty) {
      auto total = statefs::stateBytes(dir);
      line.emplace(total ? *total : 0);
    }
    statefs::Progress progress;
    if (line) progress = [&](std::uint64_t done) { (*line)(done, 0); };
    auto built = statefs::StateTree::build(dir, progress);
    line.reset();
    if (!built) return failure(kCmd, bare(built.error().message));
    tree.emplace(std::move(*built));
  }
  if (a.json)
    std::cout << render(*tree) << "\n";
  else
    std::cout << core::toHexLower(tree->root()) << "\n";
  return 0;
}

}  // namespace sashimono::cli
