// safetensors reader: 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": …}),
// then the raw tensor bytes, offsets relative to the end of the header.
// F32 and BF16 are supported; both load as float32.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pdw {

struct SafeTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, converted to f32
};

// Loads every tensor of `path`. False with *err (file and reason) on any fault.
bool load_safetensors(const std::string& path, std::map<std::string, SafeTensor>* out, std::string* err);

}  // namespace pdw
