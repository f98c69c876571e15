{
  "variables": {
    # 1 when nvcc is found and build/cuda/libpdw_cuda.a built (tools/cuda-gyp.sh runs `make cuda-lib`), else 0.
    "pdw_cuda%": "<!(sh tools/cuda-gyp.sh build)",
    "pdw_cuda_libdir%": "<!(sh tools/cuda-gyp.sh libdir)"
  },
  "targets": [
    {
      "target_name": "pdpilot_worker",
      "sources": [
        "src/addon.cpp", "src/pdw.cpp", "src/engine.cpp", "src/kv_cache.cpp", "src/backend.cpp",
        "src/sim_backend.cpp", "src/cpu_backend.cpp", "src/safetensors.cpp", "src/json.cpp", "src/latency_model.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O2"]
      },
      "conditions": [
        ["pdw_cuda==1", {
          "defines": ["PDW_WITH_CUDA"],
          "libraries": [
            "<(module_root_dir)/build/cuda/libpdw_cuda.a",
            "-L<(pdw_cuda_libdir)", "-lcudart_static", "-ldl", "-lrt", "-lpthread"
          ]
        }]
      ]
    }
  ]
}
