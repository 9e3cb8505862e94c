//! The `divide` gate: rounded division by a computed divisor, in `3 * limbs` rows.

use super::{fr, out_of_range, to_i64, Columns, MlConfig, Shape};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::{constant, Error};

/// `2^(scale_bits + 1) * n + d = 2 * d * q + r` with `0 <= r < 2 * d`: `r` (this row's range
/// check), `2d - 1 - r` and `q + bound` are range checked, so `q` is the rounded quotient.
pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns, q_div: Selector) {
    let Columns { shape, a, .. } = *cols;
    let (r, n, d, quotient, r_gap) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur(), a[4].cur());
    cs.create_gate(
        "divide",
        vec![
            q_div.expr() * (n * fr(1 << (shape.scale_bits + 1)) + d.clone() - quotient * d.clone() * constant(2) - r.clone()),
            q_div.expr() * (d * constant(2) - constant(1) - r - r_gap),
        ],
    );
}

/// `round(n * 2^scale_bits / d)`, rounding half up, and the remainder `r` of
/// `2^(scale_bits + 1) * n + d = 2 * d * q + r`: the division gadget's integer semantics.
pub fn divide_rounded(shape: Shape, n: i64, d: i64) -> Result<(i64, i64), String> {
    if d < 1 {
        return Err(format!("divisor {d} is not positive"));
    }
    let top = 1i128 << (shape.limb_bits as usize * shape.limbs);
    let numerator = ((n as i128) << (shape.scale_bits + 1)) + d as i128;
    let (q, r) = (numerator.div_euclid(2 * d as i128), numerator.rem_euclid(2 * d as i128));
    let bound = shape.bound() as i128;
    if 2 * d as i128 > top {
        return Err(format!("divisor {d} is outside the circuit's range (at most {})", top / 2));
    }
    if q < -bound || q >= bound {
        return Err(format!("quotient {q} is outside the circuit's range [-{bound}, {bound})"));
    }
    Ok((q as i64, r as i64))
}

impl MlConfig {
    /// `round(n * 2^scale_bits / d)` (half up) per item `(n, d)`, for `d >= 1`; `3 * limbs`
    /// rows each: range checks of the remainder, of its gap to `2d`, and of the quotient.
    pub fn divide(&self, layouter: &mut Layouter, items: &[(AssignedCell, AssignedCell)]) -> Result<Vec<AssignedCell>, Error> {
        let limbs = self.shape.limbs;
        let bound = self.shape.bound();
        layouter.assign_region("divide", |region| {
            let mut outputs = Vec::with_capacity(items.len());
            for (i, (n, d)) in items.iter().enumerate() {
                let row = i * 3 * limbs;
                let w = n
                    .value
                    .zip(d.value)
                    .map(|(n, d)| -> Result<_, Error> {
                        let (n, d) = (to_i64(n).ok_or_else(out_of_range)?, to_i64(d).ok_or_else(out_of_range)?);
                        let (q, r) = divide_rounded(self.shape, n, d).map_err(Error::Synthesis)?;
                        Ok((q, r, 2 * d - 1 - r))
                    })
                    .transpose()?;
                region.enable_selector(self.q_div, row);
                let r = region.assign_advice(self.a[0], row, w.map(|(_, r, _)| fr(r)))?;
                region.copy_advice(n, self.a[1], row)?;
                region.copy_advice(d, self.a[2], row)?;
                let q = region.assign_advice(self.a[3], row, w.map(|(q, _, _)| fr(q)))?;
                let gap = region.assign_advice(self.a[4], row, w.map(|(_, _, gap)| fr(gap)))?;
                for (block, (cell, offset)) in [(r, 0), (gap, 0), (q, bound)].into_iter().enumerate() {
                    let start = row + block * limbs;
                    let value = if block == 0 { cell.value } else { region.copy_advice(&cell, self.a[0], start)?.value };
                    self.range_rows(region, start, value, offset, (self.q_range, limbs))?;
                }
                outputs.push(q);
            }
            Ok(outputs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_half_up() {
        let shape = Shape { width: 8, scale_bits: 8, limb_bits: 8, limbs: 2, input_limbs: 2, element_limbs: Shape::only(2), private_params: false, products: false, functions: 0 };
        assert_eq!(divide_rounded(shape, 1, 3).unwrap().0, 85); // 256 / 3 = 85.33
        assert_eq!(divide_rounded(shape, 2, 3).unwrap().0, 171); // 170.67
        assert_eq!(divide_rounded(shape, 1, 512).unwrap().0, 1); // 0.5 rounds up
        assert!(divide_rounded(shape, 1, 0).is_err());
        assert!(divide_rounded(shape, 1, 1 << 16).unwrap_err().contains("divisor"));
    }
}
