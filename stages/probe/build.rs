//! Makes the binaries find libtorch without `LD_LIBRARY_PATH` (rpaths, and `libtorch_cuda.so`
//! kept on the link line): see `stages/common/torch/src/link_libtorch.rs`.

include!("../common/torch/src/link_libtorch.rs");

fn main() {
    link_libtorch();
}
