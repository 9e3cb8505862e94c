//! Gadgets for quantized neural networks over one shared set of columns.
//!
//! Values are signed fixed-point integers embedded in the field (negative `v` as `p - |v|`).
//! Three gates cover the models we compile:
//! - `dot`: one row adds `width` products of advice inputs with fixed weights to a running
//!   accumulator, so a dot product of length `l` costs `ceil(l / width)` rows and chains into
//!   the next with no gap;
//! - `element`: rescaling by `2^limb_bits` with an exact, range-checked remainder, the range
//!   check of the result by `limbs` limbs and ReLU from the top limb's sign bit, all in
//!   `limbs + 1` rows (max is `b + relu(a - b)` through the same gate);
//! - `linear`: `c0 * a + c1 * b` for additions and products with constants.
//! The range table holds every `limb_bits`-bit value with its top bit, so one small table
//! serves every range check and sign.

use crate::cs::{Advice, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
use crate::layouter::{AssignedCell, Layouter};
use crate::value::Value;
use crate::{constant, Error};
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};
use zkinfer_verifier::Expression;

/// The column layout: how many inputs a dot-product row takes and how values are range
/// checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub width: usize,
    pub limb_bits: u32,
    pub limbs: usize,
}

impl Shape {
    /// Values the element gate can hold: `[-bound, bound)`.
    pub fn bound(&self) -> i64 {
        1i64 << (self.limb_bits as usize * self.limbs - 1)
    }
}

/// What one `element` row computes from its input `x` (and `sub`, zero when absent):
/// `y = floor((x - sub + half) / 2^limb_bits)` when rescaling (round half up), else
/// `y = x - sub`; the output is `relu(y) + sub` or `y + sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementOp {
    pub rescale: bool,
    pub relu: bool,
}

impl ElementOp {
    /// The integer semantics, shared by the witness and the compiler's quantized evaluation.
    /// Returns `(y, output)`.
    pub fn apply(&self, limb_bits: u32, x: i64, sub: i64) -> (i64, i64) {
        let d = x - sub;
        let y = if self.rescale { (d + (1 << (limb_bits - 1))).div_euclid(1 << limb_bits) } else { d };
        let out = if self.relu { y.max(0) } else { y };
        (y, out + sub)
    }
}

#[derive(Clone, Debug)]
pub struct MlConfig {
    pub shape: Shape,
    a: Vec<Advice>,
    acc: Advice,
    rc: Advice,
    rc_msb: Advice,
    w: Vec<Fixed>,
    keep: Fixed,
    bias: Fixed,
    q_dot: Selector,
    q_el: Selector,
    q_rc: Selector,
    q_lin: Selector,
    t_value: TableColumn,
    t_msb: TableColumn,
    pub instance: Instance,
}

pub fn fr(v: i64) -> Fr {
    let f = Fr::from(v.unsigned_abs());
    if v < 0 {
        -f
    } else {
        f
    }
}

/// The signed integer a field element encodes; `None` outside `i64`.
pub fn to_i64(f: Fr) -> Option<i64> {
    let small = |f: Fr| -> Option<u64> {
        let b = f.into_bigint();
        (b.num_bits() <= 63).then(|| b.as_ref()[0])
    };
    small(f).map(|v| v as i64).or_else(|| small(-f).map(|v| -(v as i64)))
}

impl MlConfig {
    pub fn configure(cs: &mut ConstraintSystem, shape: Shape) -> Self {
        assert!(shape.width >= 5, "the element gate keeps its constants in the first five weight columns");
        let a: Vec<Advice> = (0..shape.width).map(|_| cs.advice_column()).collect();
        let (acc, rc, rc_msb) = (cs.advice_column(), cs.advice_column(), cs.advice_column());
        let w: Vec<Fixed> = (0..shape.width).map(|_| cs.fixed_column()).collect();
        let (keep, bias) = (cs.fixed_column(), cs.fixed_column());
        let [q_dot, q_el, q_rc, q_lin] = [(); 4].map(|_| cs.selector());
        let (t_value, t_msb) = (cs.table_column(), cs.table_column());
        let instance = cs.instance_column();
        for col in a.iter().chain([&acc]) {
            cs.enable_equality(*col);
        }
        cs.enable_equality(instance);

        let dot = a.iter().zip(&w).fold(acc.next() - keep.cur() * acc.cur() - bias.cur(), |e, (a, w)| e - a.cur() * w.cur());
        cs.create_gate("dot", vec![q_dot.expr() * dot]);

        // Element constants live in the weight columns, which are free on element rows.
        let (half, div, exact, relu, sub) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur(), w[4].cur());
        let (x, y, out, other) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur());
        let q = q_el.expr();
        let base = Fr::from(1u64 << shape.limb_bits);
        let limbs = (1..=shape.limbs as i32)
            .rev()
            .fold(Expression::Constant(Fr::zero()), |e, i| e * base + rc.rot(i));
        cs.create_gate(
            "element",
            vec![
                q.clone() * (x - other.clone() * sub.clone() + half - y.clone() * div - rc.cur()),
                q.clone() * exact * rc.cur(),
                q.clone() * (y.clone() + Expression::Constant(fr(shape.bound())) - limbs),
                q.clone() * (out - y.clone() + relu * y * (constant(1) - rc_msb.rot(shape.limbs as i32)) - other * sub),
            ],
        );
        cs.create_gate("linear", vec![q_lin.expr() * (a[2].cur() - w[0].cur() * a[0].cur() - w[1].cur() * a[1].cur())]);
        cs.lookup("range", q_rc.expr(), vec![(rc.cur(), t_value), (rc_msb.cur(), t_msb)]);
        Self { shape, a, acc, rc, rc_msb, w, keep, bias, q_dot, q_el, q_rc, q_lin, t_value, t_msb, instance }
    }

    /// Rows the range table takes.
    pub fn table_rows(&self) -> usize {
        1 << self.shape.limb_bits
    }

    pub fn load_table(&self, layouter: &mut Layouter) -> Result<(), Error> {
        let bits = self.shape.limb_bits;
        let rows: Vec<Vec<Fr>> = (0..1u64 << bits).map(|v| vec![Fr::from(v), Fr::from(v >> (bits - 1))]).collect();
        layouter.assign_table("range", &[self.t_value, self.t_msb], &rows)
    }

    /// Places private values, `width` to a row, with no constraint of their own.
    pub fn assign_values(&self, layouter: &mut Layouter, values: &[Value<i64>]) -> Result<Vec<AssignedCell>, Error> {
        layouter.assign_region("values", |region| {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| region.assign_advice(self.a[i % self.shape.width], i / self.shape.width, v.map(fr)))
                .collect()
        })
    }

    /// Dot products `bias + sum inputs[i] * weights[i]`, one after another in one region:
    /// each product's result sits in the accumulator on the row where the next one starts.
    pub fn dot(&self, layouter: &mut Layouter, products: &[DotProduct]) -> Result<Vec<AssignedCell>, Error> {
        let width = self.shape.width;
        layouter.assign_region("dot", |region| {
            let mut row = 0;
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            let mut outputs = Vec::with_capacity(products.len());
            for p in products {
                if p.inputs.is_empty() || p.inputs.len() != p.weights.len() {
                    return Err(Error::Synthesis(format!(
                        "a dot product needs as many weights as inputs, at least one ({} inputs, {} weights)",
                        p.inputs.len(),
                        p.weights.len()
                    )));
                }
                let mut value = Value::known(fr(p.bias));
                let mut result = None;
                for (c, (xs, ws)) in p.inputs.chunks(width).zip(p.weights.chunks(width)).enumerate() {
                    region.enable_selector(self.q_dot, row);
                    region.assign_fixed(self.keep, row, if c == 0 { Fr::zero() } else { Fr::from(1u64) });
                    region.assign_fixed(self.bias, row, if c == 0 { fr(p.bias) } else { Fr::zero() });
                    for (k, (x, w)) in xs.iter().zip(ws).enumerate() {
                        region.copy_advice(x, self.a[k], row)?;
                        region.assign_fixed(self.w[k], row, fr(*w));
                        value = value.zip(x.value).map(|(acc, x)| acc + x * fr(*w));
                    }
                    for k in xs.len()..width {
                        region.assign_advice(self.a[k], row, Value::known(Fr::zero()))?;
                    }
                    row += 1;
                    result = Some(region.assign_advice(self.acc, row, value)?);
                }
                outputs.extend(result);
            }
            Ok(outputs)
        })
    }

    /// Element-wise rescaling, range check and activation; `limbs + 1` rows each.
    pub fn element(&self, layouter: &mut Layouter, op: ElementOp, items: &[(AssignedCell, Option<AssignedCell>)]) -> Result<Vec<AssignedCell>, Error> {
        let Shape { limb_bits, limbs, .. } = self.shape;
        let bound = self.shape.bound();
        let half = if op.rescale { fr(1 << (limb_bits - 1)) } else { Fr::zero() };
        let div = if op.rescale { fr(1 << limb_bits) } else { Fr::from(1u64) };
        layouter.assign_region("element", |region| {
            let mut outputs = Vec::with_capacity(items.len());
            for (i, (x, sub)) in items.iter().enumerate() {
                let row = i * (limbs + 1);
                region.enable_selector(self.q_el, row);
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
                    let (y, out) = op.apply(limb_bits, x, s);
                    if y < -bound || y >= bound {
                        return Err(Error::Synthesis(format!("value {y} is outside the circuit's range [-{bound}, {bound})")));
                    }
                    let remainder = x - s + if op.rescale { 1 << (limb_bits - 1) } else { 0 } - y * if op.rescale { 1 << limb_bits } else { 1 };
                    Ok((y, out, remainder))
                });
                let computed = computed.transpose()?;
                region.assign_advice(self.a[1], row, computed.map(|(y, _, _)| fr(y)))?;
                let out = region.assign_advice(self.a[2], row, computed.map(|(_, o, _)| fr(o)))?;
                let mask = (1i64 << limb_bits) - 1;
                for j in 0..=limbs {
                    let v = computed.map(|(y, _, r)| if j == 0 { r } else { ((y + bound) >> (limb_bits as usize * (j - 1))) & mask });
                    region.enable_selector(self.q_rc, row + j);
                    region.assign_advice(self.rc, row + j, v.map(fr))?;
                    region.assign_advice(self.rc_msb, row + j, v.map(|v| fr(v >> (limb_bits - 1))))?;
                }
                outputs.push(out);
            }
            Ok(outputs)
        })
    }

    /// `c0 * a + c1 * b` per item, one row each.
    pub fn linear(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64, AssignedCell, i64)]) -> Result<Vec<AssignedCell>, Error> {
        layouter.assign_region("linear", |region| {
            items
                .iter()
                .enumerate()
                .map(|(row, (a, c0, b, c1))| {
                    region.enable_selector(self.q_lin, row);
                    region.assign_fixed(self.w[0], row, fr(*c0));
                    region.assign_fixed(self.w[1], row, fr(*c1));
                    region.copy_advice(a, self.a[0], row)?;
                    region.copy_advice(b, self.a[1], row)?;
                    let v = a.value.zip(b.value).map(|(a, b)| a * fr(*c0) + b * fr(*c1));
                    region.assign_advice(self.a[2], row, v)
                })
                .collect()
        })
    }

    /// Makes `cells` public inputs `offset..offset + cells.len()`.
    pub fn expose(&self, layouter: &mut Layouter, cells: &[AssignedCell], offset: usize) -> Result<(), Error> {
        cells.iter().enumerate().try_for_each(|(i, c)| layouter.constrain_instance(c.cell, self.instance, offset + i))
    }
}

/// One dot product: `bias + sum inputs[i] * weights[i]`.
pub struct DotProduct {
    pub inputs: Vec<AssignedCell>,
    pub weights: Vec<i64>,
    pub bias: i64,
}

fn out_of_range() -> Error {
    Error::Synthesis("a value does not fit in 64 bits".into())
}
