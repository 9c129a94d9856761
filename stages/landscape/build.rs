//! Makes the binaries find libtorch without `LD_LIBRARY_PATH`.
//!
//! torch-sys (`links = "tch"`) exports the libtorch library directory as `DEP_TCH_LIBTORCH_LIB`.
//! We embed it as an rpath. Rust links with `--as-needed`, which drops `libtorch_cuda.so` because
//! no symbol of it is referenced directly (its kernels register themselves when it is loaded), so
//! when the library exists it is linked explicitly with `--no-as-needed`; without it a CUDA build
//! of libtorch would report no GPU.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-L{lib},-ltorch_cuda,--as-needed");
    }
}
