// bf16 ⇄ float on the host, bit-exact with the device's __float2bfloat16_rn
// (round to nearest, ties to even; NaN stays NaN, quietened) and
// __bfloat162float (exact: bf16 is float's upper 16 bits).
#pragma once
#include <cstdint>
#include <cstring>

namespace pdw {
namespace cuda {

inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040u);  // NaN: keep sign, set the quiet bit
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into the exponent is the right result (up to inf).
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

inline float bf16_to_f32(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// What a float becomes after a trip through bf16 (the reference's view of a bf16 tensor).
inline float bf16_round(float f) { return bf16_to_f32(f32_to_bf16(f)); }

}  // namespace cuda
}  // namespace pdw
