#include "sashimono/core/Config.h"

#include <fstream>
#include <sstream>

#include <rapidjson/error/en.h>

namespace sashimono::core {
const char* jsonTypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "unknown";
}

Result<ConfigNode> ConfigNode::loadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::fromErrno("cannot open configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Result<ConfigNode> ConfigNode::parse(const std::string& text, const std::string& source) {
  auto doc = std::make_shared<Doc>();
  doc->source = source;
  doc->doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  if (doc->doc.HasParseError()) {
    return Error(source + ": invalid JSON at offset " + std::to_string(doc->doc.GetErrorOffset()) + ": " +
                 rapidjson::GetParseError_En(doc->doc.GetParseError()));
  }
  if (!doc->doc.IsObject()) return Error(source + ": expected a JSON object at the top level");
  const rapidjson::Value* root = &doc->doc;
  return ConfigNode(std::move(doc), root, "");
}

std::string ConfigNode::fieldPath(const char* field) const {
  return path_.empty() ? std::string(field) : path_ + "." + field;
}

Error ConfigNode::fieldError(const char* field, const std::string& what) const {
  return Error(doc_->source + ": field '" + fieldPath(field) + "': " + what);
}

bool ConfigNode::has(const char* field) const { return value_->IsObject() && value_->HasMember(field); }

Result<const rapidjson::Value*> ConfigNode::member(const char* field) const {
  if (!value_->IsObject()) return Error(doc_->source + ": '" + path_ + "' is not an object");
  auto it = value_->FindMember(field);
  if (it == value_->MemberEnd()) return fieldError(field, "missing");
  return &it->value;
}

Result<ConfigNode> ConfigNode::object(const char* field) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsObject())
    return fieldError(field, std::string("expected an object, got ") + jsonTypeName(**m));
  return ConfigNode(doc_, *m, fieldPath(field));
}

Result<std::vector<ConfigNode>> ConfigNode::array(const char* field) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsArray()) return fieldError(field, std::string("expected an array, got ") + jsonTypeName(**m));
  std::vector<ConfigNode> out;
  rapidjson::SizeType i = 0;
  for (const auto& v : (*m)->GetArray()) {
    out.push_back(ConfigNode(doc_, &v, fieldPath(field) + "[" + std::to_string(i++) + "]"));
  }
  return out;
}

Result<std::string> ConfigNode::string(const char* field) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsString()) return fieldError(field, std::string("expected a string, got ") + jsonTypeName(**m));
  return std::string((*m)->GetString(), (*m)->GetStringLength());
}

Result<std::uint64_t> ConfigNode::uint(const char* field, std::uint64_t min, std::uint64_t max) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsUint64()) {
    return fieldError(field, std::string("expected a non-negative integer, got ") + jsonTypeName(**m));
  }
  auto v = (*m)->GetUint64();
  if (v < min || v > max) {
    return fieldError(field, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                                 "], got " + std::to_string(v));
  }
  return v;
}

Result<bool> ConfigNode::boolean(const char* field) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsBool()) return fieldError(field, std::string("expected a boolean, got ") + jsonTypeName(**m));
  return (*m)->GetBool();
}

Result<std::vector<std::string>> ConfigNode::strings(const char* field) const {
  auto m = member(field);
  if (!m) return m.error();
  if (!(*m)->IsArray())
    return fieldError(field, std::string("expected an array of strings, got ") + jsonTypeName(**m));
  std::vector<std::string> out;
  for (const auto& v : (*m)->GetArray()) {
    if (!v.IsString()) {
      return fieldError(
          field, "element " + std::to_string(out.size()) + ": expected a string, got " + jsonTypeName(v));
    }
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

Result<std::string> ConfigNode::string(const char* field, const std::string& dflt) const {
  return has(field) ? string(field) : Result<std::string>(dflt);
}
Result<std::uint64_t> ConfigNode::uint(const char* field, std::uint64_t dflt, std::uint64_t min,
                                       std::uint64_t max) const {
  return has(field) ? uint(field, min, max) : Result<std::uint64_t>(dflt);
}
Result<bool> ConfigNode::boolean(const char* field, bool dflt) const {
  return has(field) ? boolean(field) : Result<bool>(dflt);
}

}  // namespace sashimono::core
