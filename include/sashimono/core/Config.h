#pragma once
// Reading JSON configuration with a clear error for every bad or missing field:
// each error names the file, the field path and what was expected.
//
// ConfigNode is a cheap, copyable view into a parsed document (the document is shared).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/core/Result.h"

namespace sashimono::core {

// "a string", "a number", "an object", … for error messages about JSON values.
const char* jsonTypeName(const rapidjson::Value& v);

class ConfigNode {
 public:
  // Parses a JSON file; errors name the file and the byte offset of a syntax error.
  static Result<ConfigNode> loadFile(const std::string& path);
  // Parses text; `source` names it in errors.
  static Result<ConfigNode> parse(const std::string& text, const std::string& source);

  [[nodiscard]] bool has(const char* field) const;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& source() const { return doc_->source; }

  Result<ConfigNode> object(const char* field) const;
  Result<std::vector<ConfigNode>> array(const char* field) const;
  Result<std::string> string(const char* field) const;
  Result<std::uint64_t> uint(const char* field, std::uint64_t min = 0, std::uint64_t max = UINT64_MAX) const;
  Result<bool> boolean(const char* field) const;
  Result<std::vector<std::string>> strings(const char* field) const;

  // Optional fields: the default when absent, an error when present but wrong.
  Result<std::string> string(const char* field, const std::string& dflt) const;
  Result<std::uint64_t> uint(const char* field, std::uint64_t dflt, std::uint64_t min,
                             std::uint64_t max) const;
  Result<bool> boolean(const char* field, bool dflt) const;

  // Error helper: "<source>: field '<path.field>': <what>".
  [[nodiscard]] Error fieldError(const char* field, const std::string& what) const;
  [[nodiscard]] const rapidjson::Value& raw() const { return *value_; }

 private:
  struct Doc {
    rapidjson::Document doc;
    std::string source;
  };
  ConfigNode(std::shared_ptr<Doc> doc, const rapidjson::Value* v, std::string path)
      : doc_(std::move(doc)), value_(v), path_(std::move(path)) {}
  Result<const rapidjson::Value*> member(const char* field) const;
  [[nodiscard]] std::string fieldPath(const char* field) const;

  std::shared_ptr<Doc> doc_;
  const rapidjson::Value* value_;
  std::string path_;
};

}  // namespace sashimono::core
