// Shared by the build scripts of the libtorch stages (`include!`d, not a module of the
// library): makes their binaries find libtorch without `LD_LIBRARY_PATH`.
//
// torch-sys (`links = "tch"`) exports the libtorch library directory as `DEP_TCH_LIBTORCH_LIB`.
// It is embedded as rpaths: first relative to the binary (`$ORIGIN/...`, for binaries in the
// profile directory and test binaries in its `deps/`), so a checkout moved together with its
// `target/` and `.venv/` keeps working, then the absolute directory. Rust links with
// `--as-needed`, which drops `libtorch_cuda.so` because no symbol of it is referenced directly
// (its kernels register themselves when it is loaded), so when the library exists it is linked
// explicitly with `--no-as-needed`; without it a CUDA build of libtorch would report no GPU.

/// `to` relative to `from` (both absolute, without `..`), as `../../x/y`.
fn relative_path(from: &std::path::Path, to: &std::path::Path) -> Option<std::path::PathBuf> {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut rel = std::path::PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c.as_os_str());
    }
    Some(rel)
}

/// Emits the link arguments described above.
fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib_path = std::path::Path::new(&lib);
    // OUT_DIR = <target>/<profile>/build/<package>-<hash>/out: the binaries live in <profile>/.
    let profile_dir = std::env::var("OUT_DIR")
        .ok()
        .map(std::path::PathBuf::from)
        .and_then(|out| out.ancestors().nth(3).map(std::path::Path::to_path_buf));
    let bin_dir = profile_dir.and_then(|d| d.canonicalize().ok());
    let lib_dir = lib_path.canonicalize().ok();
    if let Some(rel) = bin_dir
        .zip(lib_dir)
        .and_then(|(bin, lib)| relative_path(&bin, &lib))
    {
        let rel = rel.display();
        println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/{rel}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../{rel}");
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if lib_path.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-L{lib},-ltorch_cuda,--as-needed");
    }
}
