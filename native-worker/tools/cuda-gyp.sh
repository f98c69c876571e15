#!/bin/sh
# Called by binding.gyp while node-gyp configures the addon (npm ci / npm rebuild).
#   cuda-gyp.sh build   → builds build/cuda/libpdw_cuda.a with nvcc (`make cuda-lib`) and prints 1,
#                         or prints 0 when nvcc is absent or the build fails (the addon is then built
#                         without the cuda backend, and `--backend cuda` says why).
#   cuda-gyp.sh libdir  → the CUDA library directory holding libcudart_static.a.
# PDW_NO_CUDA=1 skips the cuda build even where nvcc exists. Build output goes to stderr.
cd "$(dirname "$0")/.." || exit 1
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)}
case "$1" in
  build)
    if [ -n "$PDW_NO_CUDA" ] || [ -z "$NVCC" ]; then
      echo "pdpilot native worker: building without the cuda backend (${PDW_NO_CUDA:+PDW_NO_CUDA set}${NVCC:-nvcc not found})" >&2
      echo 0
    elif make -j2 NVCC="$NVCC" cuda-lib >&2; then
      echo 1
    else
      echo "pdpilot native worker: the cuda library failed to build; building without the cuda backend" >&2
      echo 0
    fi ;;
  libdir)
    d=""
    [ -n "$NVCC" ] && d=$(dirname "$(dirname "$(readlink -f "$NVCC")")")
    for l in ${CUDA_HOME:+$CUDA_HOME/lib64} "$d/lib64" "$d/lib" /usr/local/cuda/lib64 /usr/local/cuda/lib; do
      if [ -f "$l/libcudart_static.a" ]; then echo "$l"; exit 0; fi
    done
    echo /usr/local/cuda/lib64 ;;
esac
