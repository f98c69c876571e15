// Minimal JSON reader: enough for a safetensors header and a profile file.
// Not a general-purpose library: no \u surrogate pairs beyond BMP, numbers as
// double. It exists so the standalone bench (no Node on the GPU machines) and
// the safetensors loader need no third-party dependency.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pdw {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;

  const Json* get(const std::string& key) const {
    if (kind != Object) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &it->second;
  }
};

// Parses `text`; on failure returns false and sets *err to a one-line reason with the byte offset.
bool json_parse(const std::string& text, Json* out, std::string* err);

}  // namespace pdw
