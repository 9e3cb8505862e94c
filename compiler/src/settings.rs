//! The settings compilation chooses, which `settings.json` holds beside the model.

use serde::{Deserialize, Deserializer, Serialize};
use zkinfer_circuits::gadgets::Shape;

/// The format of `settings.json` this zkinfer writes, and the only one it reads: a zkinfer whose
/// settings mean something else (and so rebuild another circuit) writes another number.
pub const SETTINGS_FORMAT: u32 = 1;

/// [`Settings::format`]: always [`SETTINGS_FORMAT`], since loading refuses a file of any other
/// format (or of none, from before formats) by name, with the command that rewrites it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SettingsFormat(u32);

impl SettingsFormat {
    pub const CURRENT: SettingsFormat = SettingsFormat(SETTINGS_FORMAT);
}

impl<'de> Deserialize<'de> for SettingsFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let recompile = "compile the model again with this zkinfer (`zkinfer compile`)";
        // A missing field reads as `None` here, so it is refused with its reason rather than serde's "missing field".
        match Option::<u32>::deserialize(deserializer)? {
            Some(SETTINGS_FORMAT) => Ok(Self::CURRENT),
            Some(v) if v > SETTINGS_FORMAT => Err(serde::de::Error::custom(format!(
                "settings format {v} is newer than format {SETTINGS_FORMAT}, the one this zkinfer reads (a later zkinfer wrote it); {recompile}"
            ))),
            Some(v) => Err(serde::de::Error::custom(format!("settings format {v} is not format {SETTINGS_FORMAT}, the one this zkinfer reads; {recompile}"))),
            None => Err(serde::de::Error::custom(format!("no settings format: written by a zkinfer from before format {SETTINGS_FORMAT}; {recompile}"))),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Public,
}

/// Where the model's parameters (weights, biases) live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamVisibility {
    /// In fixed columns: the verifying key commits to them, so a proof is of this model.
    #[default]
    Fixed,
    /// In advice cells, hidden by the proof's blinding: the verifying key reveals only the
    /// model's shape, and a proof shows the output of some parameters of that shape that the
    /// prover knows (see docs/circuits.md).
    Private,
}

/// The choices compilation makes; saved beside the model so setup and proving rebuild the
/// same circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The file's format, first in it: see [`SettingsFormat`].
    pub format: SettingsFormat,
    /// Fixed point: a value `v` is the integer `round(v * 2^scale_bits)`.
    pub scale_bits: u32,
    /// The width of a range-check limb: the range table has `2^limb_bits` rows.
    pub limb_bits: u32,
    /// Inputs per dot-product row (advice columns of the dot gate).
    pub width: usize,
    /// Limbs per range check: values lie in `[-2^(limbs*limb_bits-1), 2^(limbs*limb_bits-1))`.
    pub limbs: usize,
    /// Per input of the model, in the graph's order: whether it is a public value of the proof.
    pub input_visibility: Vec<Visibility>,
    /// Absent from settings written before parameters could be private.
    #[serde(default)]
    pub param_visibility: ParamVisibility,
    /// At most this many polynomials share a commitment (a power of two; docs/protocol.md
    /// §3.7): 1 proves fastest, more makes the Solidity verifier cheaper. Absent from settings
    /// written before packing, which had none.
    #[serde(default = "no_packing")]
    pub pack: usize,
    /// Per input of the model, in the graph's order: the least and greatest value of the
    /// calibration samples. Inputs outside it are refused before proving; every input within it
    /// proves where the report has `bounded_largest`. Empty without calibration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_ranges: Vec<[f32; 2]>,
}

fn no_packing() -> usize {
    1
}

impl Settings {
    /// `input_ranges` in fixed point: any input within them quantizes within these.
    pub fn input_ranges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        let one = (1u64 << self.scale_bits) as f64;
        self.input_ranges.iter().map(move |[lo, hi]| ((*lo as f64 * one).round() as i64, (*hi as f64 * one).round() as i64))
    }

    /// The column layout these settings give; the model adds the gate of products of computed
    /// tensors and the function tables where its ops need them (`Model::shape`).
    pub fn shape(&self) -> Shape {
        let spans = self.input_ranges().map(|(lo, hi)| (hi - lo).max(1) as u64);
        let input_limbs = spans.map(|span| (u64::BITS - span.leading_zeros()).div_ceil(self.limb_bits) as usize).max().map_or(self.limbs, |m| m.min(self.limbs));
        Shape {
            width: self.width,
            scale_bits: self.scale_bits,
            limb_bits: self.limb_bits,
            limbs: self.limbs,
            input_limbs,
            element_limbs: Shape::only(self.limbs),
            private_params: self.param_visibility == ParamVisibility::Private,
            products: false,
            functions: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            format: SettingsFormat::CURRENT,
            scale_bits: 8,
            limb_bits: 8,
            width: 8,
            limbs: 3,
            input_visibility: vec![Visibility::Private],
            param_visibility: ParamVisibility::Fixed,
            pack: 1,
            input_ranges: Vec::new(),
        }
    }

    /// Settings are written with their format and read back; a file of a format this zkinfer does
    /// not know (a later zkinfer's), or of none, is refused with its format and the fix.
    #[test]
    fn settings_carry_their_format() {
        let mut json = serde_json::to_value(settings()).unwrap();
        assert_eq!(json["format"], SETTINGS_FORMAT);
        assert_eq!(serde_json::from_value::<Settings>(json.clone()).unwrap(), settings());
        json["format"] = 999.into();
        let err = serde_json::from_value::<Settings>(json.clone()).unwrap_err().to_string();
        assert!(err.contains("settings format 999 is newer than format 1, the one this zkinfer reads") && err.contains("compile the model again with this zkinfer"), "{err}");
        json.as_object_mut().unwrap().remove("format");
        let err = serde_json::from_value::<Settings>(json).unwrap_err().to_string();
        assert!(err.contains("no settings format") && err.contains("compile the model again"), "{err}");
    }
}
