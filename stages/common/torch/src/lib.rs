//! Device choice and torch seeding for the libtorch stages, in one place.
//!
//! `REPRO_DEVICE` selects `cpu`, `cuda` (fails if CUDA is unavailable) or `auto` (the default:
//! CUDA when available). The engine passes the GPU it assigned through `CUDA_VISIBLE_DEVICES`, so
//! `cuda` here always means "the first visible GPU". The intra-op thread count follows
//! `REPRO_THREADS`, else `OMP_NUM_THREADS`, else libtorch's own default.

use tch::Device;

/// Picks the device from `REPRO_DEVICE` (see the module doc).
pub fn choose() -> Result<Device, String> {
    let wanted = std::env::var("REPRO_DEVICE").unwrap_or_else(|_| "auto".to_owned());
    match wanted.as_str() {
        "cpu" => Ok(Device::Cpu),
        "cuda" if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        "cuda" => Err("`REPRO_DEVICE=cuda` but libtorch sees no CUDA device".to_owned()),
        "auto" | "" => Ok(Device::cuda_if_available()),
        other => Err(format!(
            "invalid `REPRO_DEVICE` value `{other}` (expected cpu, cuda or auto)"
        )),
    }
}

/// Short human name of a device: `cpu` or `cuda:0`.
pub fn name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_owned(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Seeds libtorch's generators (CPU and CUDA) and applies the thread budget.
pub fn init(seed: u64) {
    tch::manual_seed(seed as i64);
    let threads = std::env::var("REPRO_THREADS").or_else(|_| std::env::var("OMP_NUM_THREADS"));
    if let Some(n) = threads
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|n| *n > 0)
    {
        tch::set_num_threads(n);
        // libtorch refuses a second change (it would panic here), so only change it once.
        if tch::get_num_interop_threads() != 1 {
            tch::set_num_interop_threads(1);
        }
    }
}
