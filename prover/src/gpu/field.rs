//! How field elements look on the device: the arithmetic the kernels are built with, and the
//! words an element is stored as.

use super::GpuError;
use ark_ff::{BigInt, Fp256, MontBackend, MontConfig};
use std::fmt;
use std::str::FromStr;

/// How the kernels represent and multiply field elements: `ZKINFER_GPU_FIELD=u16|u15|u14|u13|u64`,
/// read when a handle's pipelines are built ([`Gpu::new`](super::Gpu::new)). All keep arkworks's R = 2^256 and
/// its bytes in buffers, so results, cached bases and twiddles are the same whichever runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GpuField {
    /// Sixteen 16-bit limbs, each in a u32, with 32-bit products carried at once
    /// (`field_mul_cios.wgsl`): any adapter.
    #[default]
    U16,
    /// Eighteen 15-bit limbs, each in a u32, whose headroom over a product lets the
    /// multiplication defer its carries (`field_mul_lazy.wgsl`): any adapter.
    U15,
    /// Nineteen 14-bit limbs, as [`GpuField::U15`].
    U14,
    /// Twenty 13-bit limbs, as [`GpuField::U15`].
    U13,
    /// Eight 32-bit limbs with 64-bit products (`field64.wgsl`): adapters with `SHADER_INT64`.
    U64,
}

impl GpuField {
    pub const ALL: [GpuField; 5] = [GpuField::U16, GpuField::U15, GpuField::U14, GpuField::U13, GpuField::U64];

    pub(super) fn from_env() -> Result<Self, GpuError> {
        std::env::var("ZKINFER_GPU_FIELD").map_or(Ok(Self::default()), |v| v.parse())
    }

    /// What the adapter must offer for this arithmetic.
    pub(super) fn features(self) -> wgpu::Features {
        match self {
            Self::U64 => wgpu::Features::SHADER_INT64,
            _ => wgpu::Features::empty(),
        }
    }

    fn limb_bits(self) -> u32 {
        match self {
            Self::U16 => 16,
            Self::U15 => 15,
            Self::U14 => 14,
            Self::U13 => 13,
            Self::U64 => 32,
        }
    }

    /// Limbs per element: as many as reach 256 bits, for R = 2^256 (see field_mul_lazy.wgsl).
    fn limbs(self) -> u32 {
        256u32.div_ceil(self.limb_bits())
    }

    /// The limb type with its packing into buffer words, and the field template on those limbs.
    fn wgsl(self) -> (String, String) {
        let mul = match self {
            Self::U16 => include_str!("field_mul_cios.wgsl"),
            Self::U15 | Self::U14 | Self::U13 => include_str!("field_mul_lazy.wgsl"),
            Self::U64 => return (include_str!("limbs64.wgsl").into(), include_str!("field64.wgsl").into()),
        };
        let limbs = format!("const LIMB_BITS: u32 = {}u;\nconst LIMBS: u32 = {}u;\n{}", self.limb_bits(), self.limbs(), include_str!("limbs.wgsl"));
        (limbs, [include_str!("field.wgsl"), mul].concat())
    }

    /// What every kernel module starts with: the buffer layout and the limbs.
    pub(super) fn limbs_wgsl(self) -> String {
        [include_str!("layout.wgsl"), &self.wgsl().0].concat()
    }

    /// The field template instantiated for one of the two BN254 fields (`name` "fq" or "fr").
    pub(super) fn field_wgsl<T: MontConfig<4>>(self, name: &str) -> String {
        let bits = self.limb_bits() as usize;
        let mask = u32::MAX >> (32 - bits);
        let limbs = |x: &BigInt<4>| {
            let bit = |i: usize| i < 256 && (x.0[i / 64] >> (i % 64)) & 1 == 1;
            let limbs: Vec<String> =
                (0..self.limbs() as usize).map(|k| (0..bits).filter(|&b| bit(k * bits + b)).map(|b| 1u32 << b).sum::<u32>()).map(|l| format!("{l}u")).collect();
            format!("Limbs({})", limbs.join(", "))
        };
        let upper = name.to_uppercase();
        format!(
            "const {upper}_MODULUS = {};\nconst {upper}_ONE = {};\nconst {upper}_INV: u32 = {}u;\n{}",
            limbs(&T::MODULUS),
            limbs(&T::R),
            T::INV as u32 & mask,
            self.wgsl().1.replace("FIELD", &upper).replace("field", name),
        )
    }
}

impl FromStr for GpuField {
    type Err = GpuError;

    fn from_str(s: &str) -> Result<Self, GpuError> {
        let lower = s.to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.to_string() == lower).ok_or_else(|| GpuError::UnknownField(s.to_string()))
    }
}

impl fmt::Display for GpuField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::U16 => "u16",
            Self::U15 => "u15",
            Self::U14 => "u14",
            Self::U13 => "u13",
            Self::U64 => "u64",
        })
    }
}

/// Little-endian u32 words of little-endian u64 limbs. Applied to an element's `.0`, where
/// arkworks keeps its Montgomery form, this is how the device stores the element.
pub(super) fn to_words(x: &BigInt<4>) -> [u32; 8] {
    let mut words = [0; 8];
    for (pair, limb) in words.chunks_mut(2).zip(x.0) {
        pair[0] = limb as u32;
        pair[1] = (limb >> 32) as u32;
    }
    words
}

pub(super) fn element_from_words<T: MontConfig<4>>(words: &[u32]) -> Fp256<MontBackend<T, 4>> {
    let limb = |i: usize| words[2 * i] as u64 | (words[2 * i + 1] as u64) << 32;
    Fp256::new_unchecked(BigInt([limb(0), limb(1), limb(2), limb(3)]))
}
