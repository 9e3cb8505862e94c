//! What a proof's public values are: how many each instance column holds, and which named
//! tensors of the model they encode. The verifying key carries it, so every verifier accepts
//! exactly that many values and shows them as the model's outputs without trusting anything
//! the prover wrote beside the proof.

use crate::encoding::Reader;
use crate::error::{malformed, Error};
use ark_bn254::Fr;
use ark_ff::PrimeField;

/// The most tensors a statement names, and the most dimensions one has.
const MAX_TENSORS: usize = 1 << 12;
const MAX_RANK: usize = 16;
/// Fixed-point scales stop here: `2^scale_bits` must be exact in an `f64`.
pub const MAX_SCALE_BITS: u32 = 62;

/// Whether a public tensor is something the model computed or something it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// A value the model computed.
    Output,
    /// A value the model was given (an input compiled as public).
    Input,
}

impl TensorKind {
    /// `"output"` or `"input"`, as messages and proof files name the kind.
    pub fn name(self) -> &'static str {
        match self {
            TensorKind::Output => "output",
            TensorKind::Input => "input",
        }
    }
}

/// A tensor whose values are public: row-major fixed-point numbers, `value * 2^scale_bits`
/// encoded as a field element (negative values as `r - |value|`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicTensor {
    /// The tensor's name in the model.
    pub name: String,
    /// Output or input.
    pub kind: TensorKind,
    /// The dimensions; the values are row-major.
    pub shape: Vec<usize>,
    /// The fixed-point scale: a value is the field element's signed integer over `2^scale_bits`.
    pub scale_bits: u32,
}

impl PublicTensor {
    /// The number of values, `None` when the shape's product overflows.
    pub fn len(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
    }

    /// Whether the tensor has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// The public values of a circuit: `counts[c]` values in instance column `c`, exactly; the
/// `tensors`, when there are any, fill instance column 0 in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statement {
    /// The number of public values in each instance column.
    pub counts: Vec<usize>,
    /// The named tensors the values of instance column 0 make, in order.
    pub tensors: Vec<PublicTensor>,
}

/// A public tensor with the values a proof's public values give it.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorValues {
    /// The tensor.
    pub tensor: PublicTensor,
    /// Dequantized: the signed fixed-point number divided by `2^scale_bits`.
    pub values: Vec<f64>,
}

impl Statement {
    /// Checks the statement against a circuit with `num_instance` instance columns of at most
    /// `usable_rows` values each.
    pub fn validate(&self, num_instance: usize, usable_rows: usize) -> Result<(), Error> {
        if self.counts.len() != num_instance {
            return Err(malformed(format!("verifying key: public value counts for {} instance columns, the circuit has {num_instance}", self.counts.len())));
        }
        if let Some((c, n)) = self.counts.iter().enumerate().find(|(_, n)| **n > usable_rows) {
            return Err(malformed(format!("verifying key: {n} public values in instance column {c}, at most {usable_rows} fit")));
        }
        if self.tensors.is_empty() {
            return Ok(());
        }
        let mut total = 0usize;
        for t in &self.tensors {
            if t.scale_bits > MAX_SCALE_BITS {
                return Err(malformed(format!("verifying key: tensor '{}' has scale 2^-{}; scales stop at 2^-{MAX_SCALE_BITS}", t.name, t.scale_bits)));
            }
            total = t.len().and_then(|n| total.checked_add(n)).ok_or_else(|| malformed(format!("verifying key: tensor '{}' is too large", t.name)))?;
        }
        let column0 = self.counts.first().copied().unwrap_or(0);
        if total != column0 || self.counts.is_empty() {
            return Err(malformed(format!("verifying key: the public tensors hold {total} values, instance column 0 has {column0}")));
        }
        Ok(())
    }

    /// The tensors with their values, from public values that fit this statement.
    pub fn decode(&self, instances: &[Vec<Fr>]) -> Vec<TensorValues> {
        let mut values = instances.first().map(Vec::as_slice).unwrap_or_default().iter();
        self.tensors
            .iter()
            .map(|t| {
                let n = t.len().unwrap_or(0);
                TensorValues { tensor: t.clone(), values: values.by_ref().take(n).map(|v| dequantize(v, t.scale_bits)).collect() }
            })
            .collect()
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let put = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u32).to_be_bytes());
        put(out, self.counts.len());
        self.counts.iter().for_each(|&n| put(out, n));
        put(out, self.tensors.len());
        for t in &self.tensors {
            put(out, t.name.len());
            out.extend_from_slice(t.name.as_bytes());
            out.push(match t.kind {
                TensorKind::Output => 0,
                TensorKind::Input => 1,
            });
            put(out, t.shape.len());
            t.shape.iter().for_each(|&d| put(out, d));
            put(out, t.scale_bits as usize);
        }
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self, Error> {
        let columns = r.len(MAX_TENSORS, "instance columns")?;
        let counts = (0..columns).map(|_| r.u32().map(|n| n as usize)).collect::<Result<_, _>>()?;
        let tensors = (0..r.len(MAX_TENSORS, "public tensors")?)
            .map(|_| {
                let name = r.string()?;
                let kind = match r.u8()? {
                    0 => TensorKind::Output,
                    1 => TensorKind::Input,
                    k => return Err(malformed(format!("verifying key: tensor kind {k} is neither 0 (output) nor 1 (input)"))),
                };
                let shape = (0..r.len(MAX_RANK, "tensor rank")?).map(|_| r.u32().map(|d| d as usize)).collect::<Result<_, _>>()?;
                Ok(PublicTensor { name, kind, shape, scale_bits: r.u32()? })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self { counts, tensors })
    }
}

/// A public value read as a signed integer (`v > r/2` stands for `v - r`) divided by
/// `2^scale_bits`: exact while the integer has at most 53 bits, as fixed-point model values do.
pub fn dequantize(v: &Fr, scale_bits: u32) -> f64 {
    let negative = v.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO;
    let magnitude = if negative { (-*v).into_bigint() } else { v.into_bigint() };
    let m = magnitude.as_ref().iter().rev().fold(0.0f64, |acc, &limb| acc * 2f64.powi(64) + limb as f64);
    let x = m / 2f64.powi(scale_bits as i32);
    if negative {
        -x
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_tensors_that_do_not_fill_column_0() {
        let tensor = PublicTensor { name: "y".into(), kind: TensorKind::Output, shape: vec![2], scale_bits: 8 };
        let statement = |counts: Vec<usize>| Statement { counts, tensors: vec![tensor.clone()] };
        assert!(statement(vec![2]).validate(1, 10).is_ok());
        // Tensors with no instance column at all: an error, not an index out of bounds.
        assert!(statement(vec![]).validate(0, 10).unwrap_err().to_string().contains("instance column 0 has 0"));
        assert!(statement(vec![3]).validate(1, 10).is_err());
        assert!(statement(vec![11]).validate(1, 10).unwrap_err().to_string().contains("at most 10 fit"));
    }

    #[test]
    fn dequantize_reads_signed_fixed_point() {
        assert_eq!(dequantize(&Fr::from(384u64), 8), 1.5);
        assert_eq!(dequantize(&-Fr::from(384u64), 8), -1.5);
        assert_eq!(dequantize(&Fr::from(0u64), 8), 0.0);
        assert_eq!(dequantize(&-Fr::from(1u64), 0), -1.0);
        assert_eq!(dequantize(&Fr::from((1u64 << 53) - 1), 0), ((1u64 << 53) - 1) as f64);
    }
}
