#include "sashimono/runtime/Bundle.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>

#include "BundleInternal.h"
#include "BundleTar.h"
#include "sashimono/core/Config.h"

namespace sashimono::runtime {
namespace detail {

using core::Error;
using core::Result;
using core::Status;

Error bundleError(const std::string& what) {
  return Error::withCode(std::string(kBundleErrorCode), "bundle: " + what);
}

bool isUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 200;
  const bool utf8 = isUtf8(s);
  std::size_t n = std::min(s.size(), kMax);
  if (utf8) {
    while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string out = "'";
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == '\'' || c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out += "...";
  return out + "'";
}

std::string_view stripDotSlash(std::string_view p) { return p.starts_with("./") ? p.substr(2) : p; }

Status checkPath(std::string_view path) {
  if (path.empty()) return Error("empty path");
  if (path.size() > kMaxPathBytes)
    return Error("path longer than " + std::to_string(kMaxPathBytes) + " bytes");
  if (path.front() == '/') return Error("absolute path (paths are relative to the bundle)");
  if (!isUtf8(path)) return Error("path is not valid UTF-8");
  if (hasControl(path)) return Error("path holds a control character");
  std::size_t start = 0;
  for (;;) {
    std::size_t end = std::min(path.find('/', start), path.size());
    std::string_view c = path.substr(start, end - start);
    if (c.empty()) return Error("empty path component (a doubled or trailing '/')");
    if (c == ".") return Error("'.' path component");
    if (c == "..") return Error("'..' path component (paths must stay inside the bundle)");
    if (c.size() > kMaxNameBytes)
      return Error("path component longer than " + std::to_string(kMaxNameBytes) + " bytes");
    if (c == kInstallTempName) return Error("'" + std::string(kInstallTempName) + "' is a reserved name");
    if (end == path.size()) return {};
    start = end + 1;
  }
}

// ---- assembler ----

std::uint64_t Assembler::remaining() const {
  return fileBytes_ >= limits_.maxTotalBytes ? 0 : limits_.maxTotalBytes - fileBytes_;
}

Status Assembler::add(BundleFile file) {
  if (auto st = checkPath(file.path); !st)
    return bundleError("entry " + quote(file.path) + ": " + st.error().message);
  if (file.directory) {
    file.data.clear();
    file.executable = false;
  }
  return insert(std::move(file), true);
}

Status Assembler::insert(BundleFile file, bool explicitEntry) {
  auto tooMany = [&] {
    return bundleError("more than " + std::to_string(limits_.maxEntries) +
                       " entries (files and directories, counting implied parent directories)");
  };
  for (std::size_t slash = file.path.find('/'); slash != std::string::npos;
       slash = file.path.find('/', slash + 1)) {
    std::string parent = file.path.substr(0, slash);
    auto it = nodes_.find(parent);
    if (it == nodes_.end()) {
      if (nodes_.size() >= limits_.maxEntries) return tooMany();
      BundleFile dir;
      dir.path = parent;
      dir.directory = true;
      nodes_.emplace(std::move(parent), Node{std::move(dir), false});
    } else if (!it->second.file.directory) {
      return bundleError("entry " + quote(file.path) + ": inside " + quote(parent) + ", which is a file");
    }
  }
  auto it = nodes_.find(file.path);
  if (it != nodes_.end()) {
    Node& n = it->second;
    if (n.file.directory && file.directory && !n.explicitEntry) {
      n.explicitEntry = true;
      return {};
    }
    if (n.file.directory && !n.explicitEntry) {
      return bundleError("entry " + quote(file.path) + ": a file, but earlier entries are inside it");
    }
    return bundleError("entry " + quote(file.path) + ": duplicate entry");
  }
  if (!file.directory) {
    if (file.data.size() > remaining()) {
      return bundleError("entry " + quote(file.path) + ": the files hold more than " +
                         std::to_string(limits_.maxTotalBytes) + " bytes together (the limit)");
    }
    fileBytes_ += file.data.size();
  }
  if (nodes_.size() >= limits_.maxEntries) return tooMany();
  std::string key = file.path;
  nodes_.emplace(std::move(key), Node{std::move(file), explicitEntry});
  return {};
}

Result<Bundle> Assembler::finish() && {
  auto manifest = nodes_.find(std::string(kManifestPath));
  if (manifest == nodes_.end()) {
    std::string hint;
    for (const auto& [path, node] : nodes_) {
      std::size_t slash = path.find('/');
      if (!node.file.directory && slash != std::string::npos && path.substr(slash + 1) == kManifestPath &&
          path.find('/', slash + 1) == std::string::npos) {
        const std::string dir = path.substr(0, slash);
        hint = " (found " + quote(path) + ": make the archive from inside the directory, e.g. tar -C " + dir +
               " -czf bundle.tar.gz .)";
        break;
      }
    }
    return bundleError("no top-level " + std::string(kManifestPath) + hint);
  }
  const BundleFile& mf = manifest->second.file;
  if (mf.directory) return bundleError(std::string(kManifestPath) + " is a directory, not a file");
  auto contract = parseContractManifest(core::asString(mf.data));
  if (!contract) return Error::withCode(std::string(kBundleErrorCode), "bundle: " + contract.error().message);

  const std::string& binPath = contract->binPath;
  if (binPath.front() != '/') {
    std::string_view rel = stripDotSlash(binPath);
    auto it = nodes_.find(std::string(rel));
    std::string what;
    if (it == nodes_.end()) {
      what = "names no file in the bundle";
    } else if (it->second.file.directory) {
      what = "names a directory";
    } else if (!it->second.file.executable) {
      what =
          "names a file without the owner-exec bit (give it mode 0755, or use an absolute interpreter path)";
    }
    if (!what.empty()) {
      return bundleError(std::string(kManifestPath) + ": field 'bin_path': " + quote(binPath) + " " + what);
    }
  }

  Bundle b;
  b.contract = std::move(*contract);
  b.files.reserve(nodes_.size());
  for (auto& [path, node] : nodes_) b.files.push_back(std::move(node.file));
  nodes_.clear();
  return b;
}

// ---- manifest ----

namespace {

Error fieldError(const std::string& where, const std::string& field, const std::string& what) {
  return Error::withCode(std::string(kBundleErrorCode), where + ": field '" + field + "': " + what);
}

std::string_view nameOf(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// A string value of at most `max` bytes; `control` allows control characters other than NUL.
Result<std::string> stringField(const rapidjson::Value& v, const std::string& where, const std::string& field,
                                std::size_t max, bool allowEmpty, bool control) {
  if (!v.IsString())
    return fieldError(where, field, std::string("expected a string, got ") + core::jsonTypeName(v));
  std::string s(v.GetString(), v.GetStringLength());
  if (s.size() > max) return fieldError(where, field, "longer than " + std::to_string(max) + " bytes");
  if (!allowEmpty && s.empty()) return fieldError(where, field, "empty");
  if (control ? s.find('\0') != std::string::npos : hasControl(s)) {
    return fieldError(where, field, control ? "holds a NUL character" : "holds a control character");
  }
  return s;
}

bool isEnvKey(std::string_view k) {
  if (k.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(k.front())) return false;
  return std::all_of(k.begin(), k.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

}  // namespace

Result<ContractManifest> manifestFromValue(const rapidjson::Value& v, const std::string& where) {
  if (!v.IsObject()) {
    return Error::withCode(std::string(kBundleErrorCode),
                           where + ": expected an object, got " + core::jsonTypeName(v));
  }
  ContractManifest m;
  std::set<std::string_view> seen;
  bool haveVersion = false, haveBinPath = false;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string_view key = nameOf(it->name);
    if (!seen.insert(key).second) return fieldError(where, std::string(key), "duplicate key");
    const rapidjson::Value& val = it->value;
    if (key == "version") {
      auto s = stringField(val, where, "version", kMaxVersionBytes, false, false);
      if (!s) return s.error();
      m.version = std::move(*s);
      haveVersion = true;
    } else if (key == "bin_path") {
      auto s = stringField(val, where, "bin_path", kMaxBinPathBytes, false, false);
      if (!s) return s.error();
      if (s->front() != '/') {
        if (auto st = checkPath(stripDotSlash(*s)); !st)
          return fieldError(where, "bin_path", st.error().message);
      }
      m.binPath = std::move(*s);
      haveBinPath = true;
    } else if (key == "bin_args") {
      auto s = stringField(val, where, "bin_args", kMaxBinArgsBytes, true, false);
      if (!s) return s.error();
      m.binArgs = std::move(*s);
    } else if (key == "environment") {
      if (!val.IsObject()) {
        return fieldError(where, "environment",
                          std::string("expected an object, got ") + core::jsonTypeName(val));
      }
      if (val.MemberCount() > kMaxEnvEntries) {
        return fieldError(where, "environment", "more than " + std::to_string(kMaxEnvEntries) + " variables");
      }
      std::set<std::string_view> keys;
      for (auto e = val.MemberBegin(); e != val.MemberEnd(); ++e) {
        std::string_view name = nameOf(e->name);
        if (name.size() > kMaxEnvKeyBytes || !isEnvKey(name)) {
          return fieldError(where, "environment",
                            "variable name " + quote(name) + " must match [A-Za-z_][A-Za-z0-9_]* (at most " +
                                std::to_string(kMaxEnvKeyBytes) + " bytes)");
        }
        const std::string field = "environment." + std::string(name);
        if (!keys.insert(name).second) return fieldError(where, field, "duplicate key");
        auto s = stringField(e->value, where, field, kMaxEnvValueBytes, true, true);
        if (!s) return s.error();
        m.environment.emplace_back(std::string(name), std::move(*s));
      }
    } else {
      return Error::withCode(
          std::string(kBundleErrorCode),
          where + ": unknown field " + quote(key) + " (allowed: version, bin_path, bin_args, environment)");
    }
  }
  if (!haveVersion) return fieldError(where, "version", "missing");
  if (!haveBinPath) return fieldError(where, "bin_path", "missing");
  return m;
}

void writeManifest(rapidjson::Writer<rapidjson::StringBuffer>& w, const ContractManifest& m) {
  auto str = [&](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("version");
  str(m.version);
  w.Key("bin_path");
  str(m.binPath);
  w.Key("bin_args");
  str(m.binArgs);
  w.Key("environment");
  w.StartObject();
  for (const auto& [k, v] : m.environment) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    str(v);
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace detail

using core::Error;
using core::Result;
using detail::bundleError;
using detail::quote;

Result<ContractManifest> parseContractManifest(std::string_view json) {
  const std::string where(kManifestPath);
  if (json.size() > kMaxManifestBytes) {
    return Error::withCode(std::string(kBundleErrorCode), where + ": " + std::to_string(json.size()) +
                                                              " bytes, more than " +
                                                              std::to_string(kMaxManifestBytes));
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Error::withCode(std::string(kBundleErrorCode),
                           where + ": invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                               rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return detail::manifestFromValue(doc, where);
}

std::string renderContractManifest(const ContractManifest& manifest) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  detail::writeManifest(w, manifest);
  return std::string(buf.GetString(), buf.GetSize());
}

std::vector<std::string> splitBinArgs(std::string_view binArgs) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < binArgs.size()) {
    std::size_t end = std::min(binArgs.find(' ', start), binArgs.size());
    if (end > start) out.emplace_back(binArgs.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<Bundle> makeBundle(std::vector<BundleFile> files, const BundleLimits& limits) {
  detail::Assembler a(limits);
  for (BundleFile& f : files) SASHI_TRY(a.add(std::move(f)));
  return std::move(a).finish();
}

namespace {

std::uint64_t saturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max()
                                                           : a + b;
}

std::uint64_t saturatingMul(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b
             ? std::numeric_limits<std::uint64_t>::max()
             : a * b;
}

std::string typeName(char t) {
  switch (t) {
    case '1':
      return "a hard link";
    case '2':
      return "a symbolic link";
    case '3':
      return "a character device";
    case '4':
      return "a block device";
    case '6':
      return "a FIFO";
    case 'S':
      return "a GNU sparse file";
    default: {
      auto u = static_cast<unsigned char>(t);
      char buf[32];
      if (u > 0x20 && u < 0x7F) {
        std::snprintf(buf, sizeof buf, "of type '%c'", t);
      } else {
        std::snprintf(buf, sizeof buf, "of type \\x%02x", u);
      }
      return std::string("an entry ") + buf;
    }
  }
}

}  // namespace

Result<Bundle> readBundle(core::ByteView archive, const BundleLimits& limits) {
  // Files and tar metadata may each take maxTotalBytes; headers and padding are at most 3069
  // bytes per entry (a long-name or pax header, the entry's header, their padding).
  const std::uint64_t maxStream = saturatingAdd(
      saturatingAdd(saturatingMul(2, limits.maxTotalBytes), saturatingMul(4096, limits.maxEntries)),
      1u << 20);
  auto reader = detail::TarReader::open(archive, maxStream, limits.maxTotalBytes);
  if (!reader) return reader.error();
  detail::Assembler a(limits);
  bool rootSeen = false;
  for (;;) {
    auto next = reader->next();
    if (!next) return next.error();
    if (!*next) break;
    const detail::TarHeader& h = **next;
    const bool file = h.type == '0' || h.type == '\0';
    const bool dir = h.type == '5';
    if (!file && !dir) {
      std::string what = "entry " + quote(h.path) + ": " + typeName(h.type);
      if ((h.type == '1' || h.type == '2') && !h.linkName.empty()) what += " to " + quote(h.linkName);
      return bundleError(what + " (a bundle holds regular files and directories only)");
    }
    if (dir && h.size != 0) return bundleError("entry " + quote(h.path) + ": a directory with data");
    if (dir && (h.path == "." || h.path == "./")) {
      if (rootSeen) return bundleError("entry " + quote(h.path) + ": duplicate entry");
      rootSeen = true;
      continue;
    }
    BundleFile f;
    f.path = std::string(detail::stripDotSlash(h.path));
    if (dir && f.path.size() > 1 && f.path.back() == '/') f.path.pop_back();
    f.directory = dir;
    if (auto st = detail::checkPath(f.path); !st) {
      return bundleError("entry " + quote(h.path) + ": " + st.error().message);
    }
    if (file) {
      f.executable = (h.mode & 0100) != 0;
      if (h.size > a.remaining()) {
        return bundleError("entry " + quote(h.path) + ": the files hold more than " +
                           std::to_string(limits.maxTotalBytes) + " bytes together (the limit)");
      }
      auto data = reader->readData();
      if (!data) return data.error();
      f.data = std::move(*data);
    }
    SASHI_TRY(a.add(std::move(f)));
  }
  return std::move(a).finish();
}

Result<core::Bytes> writeBundle(const Bundle& bundle) {
  BundleLimits unlimited{std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::uint64_t>::max()};
  auto normal = makeBundle(bundle.files, unlimited);
  if (!normal) return normal.error();
  if (!(normal->contract == bundle.contract)) {
    return bundleError("the bundle's contract does not match its " + std::string(kManifestPath));
  }
  return detail::writeTarGz(normal->files);
}

}  // namespace sashimono::runtime
