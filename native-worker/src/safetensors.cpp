#include "safetensors.h"

#include <cstring>
#include <fstream>

#include "json.h"

namespace pdw {

bool load_safetensors(const std::string& path, std::map<std::string, SafeTensor>* out, std::string* err) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) {
    *err = path + ": cannot open";
    return false;
  }
  const int64_t size = int64_t(f.tellg());
  f.seekg(0);
  uint8_t len_bytes[8];
  if (size < 8 || !f.read(reinterpret_cast<char*>(len_bytes), 8)) {
    *err = path + ": shorter than the 8-byte header length";
    return false;
  }
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | len_bytes[i];
  if (hlen > uint64_t(size - 8) || hlen > (100u << 20)) {
    *err = path + ": header length " + std::to_string(hlen) + " exceeds the file";
    return false;
  }
  std::string header(size_t(hlen), '\0');
  f.read(&header[0], std::streamsize(hlen));
  Json root;
  std::string perr;
  if (!json_parse(header, &root, &perr) || root.kind != Json::Object) {
    *err = path + ": header is not a JSON object (" + perr + ")";
    return false;
  }
  const uint64_t data_len = uint64_t(size) - 8 - hlen;
  std::vector<uint8_t> data(data_len);
  if (data_len && !f.read(reinterpret_cast<char*>(data.data()), std::streamsize(data_len))) {
    *err = path + ": cannot read tensor data";
    return false;
  }
  for (const auto& kv : root.obj) {
    if (kv.first == "__metadata__") continue;
    const Json& t = kv.second;
    const Json* dt = t.get("dtype");
    const Json* sh = t.get("shape");
    const Json* off = t.get("data_offsets");
    const std::string where = path + ": tensor " + kv.first;
    if (!dt || dt->kind != Json::String || !sh || sh->kind != Json::Array || !off || off->kind != Json::Array ||
        off->arr.size() != 2) {
      *err = where + ": needs dtype, shape and data_offsets";
      return false;
    }
    SafeTensor st;
    st.dtype = dt->str;
    size_t elem;
    if (st.dtype == "F32") elem = 4;
    else if (st.dtype == "BF16") elem = 2;
    else {
      *err = where + ": dtype " + st.dtype + " is not supported (F32, BF16)";
      return false;
    }
    uint64_t count = 1;
    for (const Json& d : sh->arr) {
      if (d.kind != Json::Number || d.num < 0) {
        *err = where + ": bad shape";
        return false;
      }
      st.shape.push_back(int64_t(d.num));
      count *= uint64_t(d.num);
    }
    const uint64_t b = uint64_t(off->arr[0].num), e = uint64_t(off->arr[1].num);
    if (e < b || e > data_len || e - b != count * elem) {
      *err = where + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + ") do not match shape and file";
      return false;
    }
    st.data.resize(size_t(count));
    const uint8_t* p = data.data() + b;
    if (elem == 4) {
      std::memcpy(st.data.data(), p, size_t(count) * 4);  // little-endian host assumed (x86-64, aarch64)
    } else {
      for (uint64_t i = 0; i < count; i++) {
        uint32_t bits = uint32_t(p[2 * i]) | (uint32_t(p[2 * i + 1]) << 8);
        bits <<= 16;  // bf16 is the top half of an f32
        std::memcpy(&st.data[size_t(i)], &bits, 4);
      }
    }
    (*out)[kv.first] = std::move(st);
  }
  return true;
}

}  // namespace pdw
