//! The `element` gate: the range check of a result in `limbs` limbs and ReLU from the top limb's
//! sign bit, then rescaling by `2^scale_bits` with an exact remainder, range checked in
//! `remainder_limbs` limbs, all in `limbs + remainder_limbs` rows; `limbs` rows without the
//! rescale. One gate per limb count the shape asks for.

use super::{fr, out_of_range, to_i64, Columns, MlConfig, Shape};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::value::Value;
use crate::{constant, Error};
use ark_bn254::Fr;
use ark_ff::Zero;
use zkinfer_verifier::Expression;

/// What one `element` row computes from its input `x` (and `sub`, zero when absent):
/// `y = floor((x - sub + half) / 2^scale_bits)` when rescaling (round half up), else
/// `y = x - sub`; the output is `relu(y) + sub` or `y + sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementOp {
    pub rescale: bool,
    pub relu: bool,
}

impl ElementOp {
    /// The integer semantics, shared by the witness and the compiler's quantized evaluation.
    /// Returns `(y, output)`, or an error when a step leaves 64 bits (it would wrap).
    pub fn apply(&self, scale_bits: u32, x: i64, sub: i64) -> Result<(i64, i64), String> {
        let overflow = || format!("{x} - {sub} leaves 64 bits");
        let d = x.checked_sub(sub).ok_or_else(overflow)?;
        let y = if self.rescale { d.checked_add(1 << (scale_bits - 1)).ok_or_else(overflow)?.div_euclid(1 << scale_bits) } else { d };
        let out = if self.relu { y.max(0) } else { y };
        Ok((y, out.checked_add(sub).ok_or_else(overflow)?))
    }
}

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns) -> Vec<(usize, Selector)> {
    let Columns { shape, a, rc_msb, w, .. } = *cols;
    // Element constants live in the weight columns, which are free on element rows.
    let (half, div, exact, relu, sub) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur(), w[4].cur());
    let (x, y, out, other) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur());
    let remainder_limbs = shape.remainder_limbs();
    // One gate per limb count of the result, the same but for its range check. The
    // result's limbs come first, then a rescale's remainder; an exact step has none (its
    // remainder's rows are the next item's, which `1 - exact` keeps out of the identity).
    shape
        .element_limb_counts()
        .map(|m| {
            let q_el = cs.selector();
            let q = q_el.expr();
            let name = if m == shape.limbs { "element".to_string() } else { format!("element of {m} limbs") };
            let remainder = (constant(1) - exact.clone()) * cols.limbs_from(m as i32, remainder_limbs);
            cs.create_gate(
                &name,
                vec![
                    q.clone() * (x.clone() - other.clone() * sub.clone() + half.clone() - y.clone() * div.clone() - remainder),
                    q.clone() * (y.clone() + Expression::Constant(fr(shape.bound_at(m))) - cols.limbs_from(0, m)),
                    q * (out.clone() - y.clone() + relu.clone() * y.clone() * (constant(1) - rc_msb.rot(m as i32 - 1)) - other.clone() * sub.clone()),
                ],
            );
            (m, q_el)
        })
        .collect()
}

impl MlConfig {
    /// Element-wise rescaling, range check of the result in `limbs` limbs (one of the shape's
    /// `element_limbs`) and activation; `limbs + remainder_limbs` rows each, `limbs` without
    /// the rescale.
    pub fn element(&self, layouter: &mut Layouter, op: ElementOp, limbs: usize, items: &[(AssignedCell, Option<AssignedCell>)]) -> Result<Vec<AssignedCell>, Error> {
        let Shape { scale_bits, limb_bits, .. } = self.shape;
        let q_el = self.q_el.iter().find(|(m, _)| *m == limbs).map(|(_, q)| *q).ok_or_else(|| Error::Synthesis(format!("the circuit has no element gate of {limbs} limbs")))?;
        let bound = self.shape.bound_at(limbs);
        let half = if op.rescale { fr(1 << (scale_bits - 1)) } else { Fr::zero() };
        let div = if op.rescale { fr(1 << scale_bits) } else { Fr::from(1u64) };
        layouter.assign_region("element", |region| {
            let mut outputs = Vec::with_capacity(items.len());
            for (i, (x, sub)) in items.iter().enumerate() {
                let row = i * self.shape.element_rows(limbs, op.rescale);
                region.enable_selector(q_el, row);
                for (col, v) in self.w[..5].iter().zip([half, div, Fr::from(!op.rescale as u64), Fr::from(op.relu as u64)]) {
                    region.assign_fixed(*col, row, v);
                }
                region.assign_fixed(self.w[4], row, Fr::from(sub.is_some() as u64));
                region.copy_advice(x, self.a[0], row)?;
                let sub_value = match sub {
                    Some(s) => region.copy_advice(s, self.a[3], row)?.value,
                    None => region.assign_advice(self.a[3], row, Value::known(Fr::zero()))?.value,
                };
                let computed = x.value.zip(sub_value).map(|(x, s)| -> Result<_, Error> {
                    let (x, s) = (to_i64(x).ok_or_else(out_of_range)?, to_i64(s).ok_or_else(out_of_range)?);
                    let (y, out) = op.apply(scale_bits, x, s).map_err(Error::Synthesis)?;
                    if y < -bound || y >= bound {
                        return Err(Error::Synthesis(format!("value {y} is outside the circuit's range [-{bound}, {bound})")));
                    }
                    let remainder = x - s + if op.rescale { 1 << (scale_bits - 1) } else { 0 } - y * if op.rescale { 1 << scale_bits } else { 1 };
                    Ok((y, out, remainder))
                });
                let computed = computed.transpose()?;
                region.assign_advice(self.a[1], row, computed.map(|(y, _, _)| fr(y)))?;
                let out = region.assign_advice(self.a[2], row, computed.map(|(_, o, _)| fr(o)))?;
                let mask = (1i64 << limb_bits) - 1;
                let limb = |v: i64, j: usize| (v >> (limb_bits as usize * j)) & mask;
                for j in 0..limbs {
                    self.table_row(region, row + j, 0, computed.map(|(y, _, _)| self.limb(limb(y + bound, j))))?;
                }
                if op.rescale {
                    self.remainder_rows(region, row + limbs, computed.map(|(_, _, r)| r))?;
                }
                outputs.push(out);
            }
            Ok(outputs)
        })
    }
}
