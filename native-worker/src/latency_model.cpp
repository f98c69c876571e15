#include "latency_model.h"

#include <fstream>
#include <sstream>

#include "json.h"

namespace pdw {

static bool triple(const Json* j, double out[3], const std::string& key, std::string* err) {
  if (!j || j->kind != Json::Array || j->arr.size() != 3) {
    *err = key + ": expected an array of 3 numbers";
    return false;
  }
  for (int k = 0; k < 3; k++) {
    if (j->arr[size_t(k)].kind != Json::Number) {
      *err = key + "[" + std::to_string(k) + "]: expected a number";
      return false;
    }
    out[k] = j->arr[size_t(k)].num;
  }
  return true;
}

bool load_profile_file(const std::string& path, LatencyModel* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = path + ": cannot open";
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  Json root;
  std::string perr;
  if (!json_parse(ss.str(), &root, &perr)) {
    *err = path + ": " + perr;
    return false;
  }
  LatencyModel m;
  std::string e;
  const Json* dec = root.get("decodeMs");
  if (!triple(root.get("prefillMs"), m.prefill, "prefillMs", &e) || !dec ||
      !triple(dec->get("smallBatch"), m.decode_small, "decodeMs.smallBatch", &e) ||
      !triple(dec->get("largeBatch"), m.decode_large, "decodeMs.largeBatch", &e)) {
    *err = path + ": " + (e.empty() ? "decodeMs: missing" : e);
    return false;
  }
  if (const Json* t = dec->get("thresholdBatch"); t && t->kind == Json::Number) m.threshold_batch = int32_t(t->num);
  if (const Json* t = root.get("pipelineParallel"); t && t->kind == Json::Number) m.pipeline_parallel = int32_t(t->num);
  if (const Json* t = root.get("kvCapacityTokens"); t && t->kind == Json::Number) m.kv_capacity_tokens = int64_t(t->num);
  if (const Json* t = root.get("kvBytesPerToken"); t && t->kind == Json::Number) m.kv_bytes_per_token = int64_t(t->num);
  if (const Json* t = root.get("contextTokens"); t && t->kind == Json::Number) m.context_tokens = int32_t(t->num);
  *out = m;
  return true;
}

}  // namespace pdw
