#include "cublas_loader.h"

#include <dlfcn.h>

#include <cstring>

namespace pdw {
namespace cuda {

std::vector<std::string> cublas_candidates(const char* env_path) {
  std::vector<std::string> c;
  if (env_path && *env_path) c.push_back(env_path);
  c.push_back("libcublas.so.13");
  c.push_back("libcublas.so.12");
  c.push_back("libcublas.so");
  return c;
}

CublasApi load_cublas(const std::vector<std::string>& candidates) {
  CublasApi api;
  for (const std::string& name : candidates) {
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      api.why_not += (api.why_not.empty() ? "" : "; ") + std::string(e ? e : name + ": not found");
      continue;
    }
    CublasApi a;
    a.lib = lib;
    a.path = name;
    a.create = reinterpret_cast<CublasApi::Create>(dlsym(lib, "cublasCreate_v2"));
    a.destroy = reinterpret_cast<CublasApi::Destroy>(dlsym(lib, "cublasDestroy_v2"));
    a.set_stream = reinterpret_cast<CublasApi::SetStream>(dlsym(lib, "cublasSetStream_v2"));
    a.gemm_ex = reinterpret_cast<CublasApi::GemmEx>(dlsym(lib, "cublasGemmEx"));
    if (a.ok()) return a;
    api.why_not += (api.why_not.empty() ? "" : "; ") + name + ": missing cublasCreate_v2/cublasGemmEx";
    dlclose(lib);
  }
  return api;
}

void unload_cublas(CublasApi* api) {
  if (api->lib) dlclose(api->lib);
  *api = CublasApi();
}

GemmChoice choose_gemm(const char* pref, const CublasApi& api) {
  const std::string p = pref && *pref ? pref : "auto";
  GemmChoice c;
  if (p == "own") {
    c.log = "gemm: own mma.sync kernel (PDW_GEMM=own)";
    return c;
  }
  if (api.ok()) {
    c.cublas = true;
    c.log = "gemm: cuBLAS from " + api.path + " (cublasGemmEx, bf16 in, fp32 accumulate)";
    return c;
  }
  c.log = std::string("gemm: own mma.sync kernel (") + (p == "cublas" ? "PDW_GEMM=cublas but " : "") +
          "cuBLAS not loadable: " + (api.why_not.empty() ? "no candidates" : api.why_not) + ")";
  return c;
}

}  // namespace cuda
}  // namespace pdw
