// oneDNN's C API (Debian's libdnnl-dev, OpenMP build), used by TensorCore's convolution kernels.
#include <oneapi/dnnl/dnnl.h>
