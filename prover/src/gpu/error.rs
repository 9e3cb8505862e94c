//! Why there is no GPU backend to prove on.

#[derive(Clone, Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no Vulkan adapter found: install a Vulkan driver (on a machine without a GPU, Mesa's \
         lavapipe: apt-get install mesa-vulkan-drivers)"
    )]
    NoAdapter,
    #[error("no Vulkan adapter's name contains {wanted:?} (WGPU_ADAPTER_NAME); the adapters are: {found}")]
    NoAdapterNamed { wanted: String, found: String },
    #[error("the adapter {adapter} refused a device: {reason}")]
    Device { adapter: String, reason: String },
    #[error("ZKINFER_GPU_CLOCK={0:?}: expected wall, passes or dispatches")]
    UnknownClock(String),
    #[error("unknown GPU field arithmetic {0:?} (ZKINFER_GPU_FIELD): expected u16, u15, u14, u13 or u64")]
    UnknownField(String),
    #[error(
        "the u64 field arithmetic (ZKINFER_GPU_FIELD=u64) needs SHADER_INT64, which the adapter {0} \
         does not offer; u16 (the default), u15, u14 and u13 run on any adapter"
    )]
    NoInt64(String),
}
