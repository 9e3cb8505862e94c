//! The `range` gate: `a[0] + offset` in `limbs` limbs, each looked up in the range table; and
//! the `input range` gate, the same in the model input's fewer limbs where it has fewer.

use super::{fr, to_i64, Columns, MlConfig};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter, Region};
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns, q_range: Selector) -> Option<Selector> {
    let Columns { shape, a, w, .. } = *cols;
    cs.create_gate("range", vec![q_range.expr() * (a[0].cur() + w[0].cur() - cols.limbs_from(0, shape.limbs))]);
    (shape.input_limbs < shape.limbs).then(|| {
        let q = cs.selector();
        cs.create_gate("input range", vec![q.expr() * (a[0].cur() + w[0].cur() - cols.limbs_from(0, shape.input_limbs))]);
        q
    })
}

impl MlConfig {
    /// Range checks the model's input, `input_limbs` rows a value: each `(cell, least)` in
    /// `[least, least + 2^(input_limbs limb_bits))`.
    pub fn range_check_inputs(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64)]) -> Result<(), Error> {
        self.range_region(layouter, items, (self.q_input_range.unwrap_or(self.q_range), self.shape.input_limbs))
    }

    /// Each `(cell, least)` in `[least, least + 2^(limbs limb_bits))` with the `(selector,
    /// limbs)` range gate.
    pub(super) fn range_region(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64)], gate: (Selector, usize)) -> Result<(), Error> {
        layouter.assign_region("range", |region| {
            for (i, (cell, least)) in items.iter().enumerate() {
                let start = i * gate.1;
                let value = region.copy_advice(cell, self.a[0], start)?.value;
                self.range_rows(region, start, value, -least, gate)?;
            }
            Ok(())
        })
    }

    /// The `(selector, limbs)` range gate's rows from `start`, where `a[0]` holds `value`:
    /// `value + offset` in `[0, 2^(limbs limb_bits))`.
    pub(super) fn range_rows(&self, region: &mut Region, start: usize, value: Value<Fr>, offset: i64, (selector, limbs): (Selector, usize)) -> Result<(), Error> {
        let bits = self.shape.limb_bits;
        let mask = (1i64 << bits) - 1;
        region.enable_selector(selector, start);
        region.assign_fixed(self.w[0], start, fr(offset));
        let top = 1i64 << (bits as usize * limbs);
        let outside = || Error::Synthesis(format!("a value is outside the range [{}, {}) it is checked against", -offset, top - offset));
        let value = value.map(|v| to_i64(v + fr(offset)).filter(|v| (0..top).contains(v)).ok_or_else(outside)).transpose()?;
        for j in 0..limbs {
            self.table_row(region, start + j, 0, value.map(|v| self.limb((v >> (bits as usize * j)) & mask)))?;
        }
        Ok(())
    }
}
