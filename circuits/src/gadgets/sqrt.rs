//! Square roots, from the gates of others: the root a witness, its square by the `param dot`
//! gate, and the two gaps that pin it down by the `dot` and `range` gates.

use super::param_dot::{Coefficient, ParamDot};
use super::{to_i64, DotProduct, MlConfig};
use crate::layouter::{AssignedCell, Layouter};
use crate::Error;
use std::collections::HashMap;

/// `floor(sqrt(v 2^scale_bits))`, the root the `sqrt` gadget proves; `None` for a negative `v`.
pub fn floor_sqrt(v: i64, scale_bits: u32) -> Option<i64> {
    u128::try_from(v).ok().map(|v| (v << scale_bits).isqrt() as i64)
}

impl MlConfig {
    /// `floor(sqrt(v 2^scale_bits))` per value `v >= 0`: the square root at the same scale, at
    /// most a step below. The root `r` is a witness; `v 2^s - r^2` and `r^2 + 2r - v 2^s` are
    /// range checked, and both are at least 0 for that `r` alone (they sum to `2r`, so `r` is
    /// small as well): a place for `r`, a product, two sums and two range checks, `2 limbs +
    /// 5` rows or so. `one` is the cell holding 1 that the products gate takes.
    pub fn sqrt(&self, layouter: &mut Layouter, one: &AssignedCell, items: &[AssignedCell]) -> Result<Vec<AssignedCell>, Error> {
        let s = self.shape.scale_bits;
        let roots = items
            .iter()
            .map(|v| {
                v.value
                    .map(|v| -> Result<i64, Error> { to_i64(v).and_then(|v| floor_sqrt(v, s)).ok_or_else(|| Error::Synthesis("the square root of a negative value".into())) })
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let roots = self.assign_values(layouter, &roots)?;
        let squares: Vec<ParamDot> = roots.iter().map(|r| ParamDot { inputs: vec![*r], coefficients: vec![Coefficient::Cell(*r)], bias: 0 }).collect();
        let squares = self.param_dot(layouter, one, &mut HashMap::new(), &squares)?;
        let gaps: Vec<DotProduct> = items
            .iter()
            .zip(&roots)
            .zip(&squares)
            .flat_map(|((v, r), square)| {
                [
                    DotProduct { inputs: vec![*v, *square], weights: vec![1 << s, -1], bias: 0 },
                    DotProduct { inputs: vec![*square, *r, *v], weights: vec![1, 2, -(1 << s)], bias: 0 },
                ]
            })
            .collect();
        let gaps: Vec<(AssignedCell, i64)> = self.dot(layouter, &gaps)?.into_iter().map(|g| (g, 0)).collect();
        self.range_region(layouter, &gaps, (self.q_range, self.shape.limbs))?;
        Ok(roots)
    }
}
