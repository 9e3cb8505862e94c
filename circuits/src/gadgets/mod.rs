//! Gadgets for quantized neural networks over one shared set of columns.
//!
//! Values are signed fixed-point integers embedded in the field (negative `v` as `p - |v|`).
//! Three gates cover the models we compile:
//! - `dot`: one row adds `width` products of advice inputs with fixed weights to a running
//!   accumulator, so a dot product of length `l` costs `ceil(l / width)` rows and chains into
//!   the next with no gap;
//! - `param dot` (only with private parameters): the same with the weights in advice cells,
//!   `width / 2` input and weight pairs a row, each product masked by a fixed factor;
//! - `element`: the range check of the result by `limbs` limbs and ReLU from the top limb's
//!   sign bit, then rescaling by `2^scale_bits` with an exact remainder, range checked in
//!   `remainder_limbs` limbs, all in `limbs + remainder_limbs` rows; `limbs` rows without the
//!   rescale (max is `b + relu(a - b)` through the same gate);
//! - `linear`: `c0 * a + c1 * b` for additions and products with constants, through the dot
//!   gate;
//! - `function`: a nonlinear [`Function`] by table lookup with linear interpolation, its
//!   limit outside the table's interval, in `limbs + 4` rows;
//! - `divide`: rounded division by a computed divisor, in `3 * limbs` rows.
//!
//! The fixed-point scale (`2^scale_bits`, the values' resolution) and the limb width
//! (`limb_bits`, the range table's size) are independent: a remainder of a rescale wider than a
//! limb takes several limbs, the top one checked against a narrower range where the scale is
//! not a multiple of the limb. One table serves every lookup: rows tagged 0 hold every
//! `limb_bits`-bit value with its top bit (range checks and signs), rows tagged with a function
//! hold its samples, and rows tagged [`NARROW_TAG`] every value of the remainder's top limb. No
//! gate reads a row more than `remainder_limbs + limbs - 1` below its own.

use crate::cs::{Advice, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
use crate::layouter::{AssignedCell, Layouter, Region};
use crate::value::Value;
use crate::{constant, Error};
use ark_bn254::Fr;
use ark_ff::{BigInteger, Field, PrimeField, Zero};
use std::collections::HashMap;
use zkinfer_verifier::Expression;

/// The column layout: how many inputs a dot-product row takes, how values are range
/// checked, and whether the model's parameters are witnesses (the `param dot` gate) rather
/// than fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub width: usize,
    /// Fixed point: a value `v` is the integer `round(v * 2^scale_bits)`.
    pub scale_bits: u32,
    /// The width of a range-checked limb: the range table has `2^limb_bits` rows.
    pub limb_bits: u32,
    pub limbs: usize,
    /// Limbs of the model input's range check, at most `limbs`: an input calibrated to a
    /// narrower range than the values it leads to takes fewer rows (the `input range` gate).
    pub input_limbs: usize,
    /// The limb counts of element gates, bit `m` for `m` limbs (2 to `limbs`; `limbs` always):
    /// a step whose values are known to stay small takes fewer rows.
    pub element_limbs: u32,
    pub private_params: bool,
    /// Products of two computed values (attention, gating): the `param dot` gate, with a
    /// computed value in a weight's cell.
    pub products: bool,
    /// The function tables in the lookup table, a bit per function ([`Function::bit`]): only
    /// those a model looks up.
    pub functions: u32,
}

/// The lookup tag of the range of the rescale remainder's top limb, after the functions'.
pub const NARROW_TAG: u64 = Function::ALL.len() as u64 + 1;

impl Shape {
    /// The limb counts of a circuit with `limbs` limbs for every value.
    pub fn only(limbs: usize) -> u32 {
        1 << limbs
    }

    /// Values the range checks of `limbs` limbs hold: `[-bound, bound)`.
    pub fn bound(&self) -> i64 {
        self.bound_at(self.limbs)
    }

    pub fn bound_at(&self, limbs: usize) -> i64 {
        1i64 << (self.limb_bits as usize * limbs - 1)
    }

    /// The element gates' limb counts, fewest first.
    pub fn element_limb_counts(&self) -> impl Iterator<Item = usize> + '_ {
        (2..=self.limbs).filter(|m| self.element_limbs & (1 << m) != 0 || *m == self.limbs)
    }

    /// Limbs of a rescale's remainder, `[0, 2^scale_bits)`.
    pub fn remainder_limbs(&self) -> usize {
        self.scale_bits.div_ceil(self.limb_bits) as usize
    }

    /// Bits of the remainder's top limb; narrower than a limb where the scale is not a multiple
    /// of the limb width.
    pub fn top_remainder_bits(&self) -> u32 {
        self.scale_bits - self.limb_bits * (self.remainder_limbs() as u32 - 1)
    }

    /// Rows of one element item whose value takes `limbs` limbs: an exact one (no rescale) has
    /// no remainder, and the next item's rows take the place of its limbs.
    pub fn element_rows(&self, limbs: usize, rescale: bool) -> usize {
        limbs + if rescale { self.remainder_limbs() } else { 0 }
    }
}

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

#[derive(Clone, Debug)]
pub struct MlConfig {
    pub shape: Shape,
    a: Vec<Advice>,
    acc: Advice,
    rc: Advice,
    rc_msb: Advice,
    w: Vec<Fixed>,
    keep: Fixed,
    /// The dot gate's bias on dot rows; on lookup rows, which part of the table the row
    /// belongs to (0 for range checks, else a function's tag). No row is both.
    bias: Fixed,
    q_dot: Selector,
    /// Per limb count of the element gate, fewest first.
    q_el: Vec<(usize, Selector)>,
    q_rc: Selector,
    q_fn_sample: Selector,
    q_fn_out: Selector,
    q_range: Selector,
    /// Only where inputs take fewer limbs than other values.
    q_input_range: Option<Selector>,
    q_div: Selector,
    q_param_dot: Option<Selector>,
    t_tag: TableColumn,
    t_value: TableColumn,
    t_msb: TableColumn,
    pub instance: Instance,
}

/// Consecutive items grouped into blocks of at least `BLOCK_ROWS` rows (the last may have
/// fewer), given each item's rows: (the items' range, the block's rows). Blocks this tall
/// amortize a parallel block's cost while leaving hundreds of them for a layer of a model.
fn blocks_of_rows(rows: impl Iterator<Item = usize>) -> Vec<(std::ops::Range<usize>, usize)> {
    const BLOCK_ROWS: usize = 64;
    let mut blocks: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for (i, r) in rows.enumerate() {
        match blocks.last_mut() {
            Some((items, rows)) if *rows < BLOCK_ROWS => {
                items.end = i + 1;
                *rows += r;
            }
            _ => blocks.push((i..i + 1, r)),
        }
    }
    blocks
}

/// Rows of a dot product of `inputs` values at `width` a row: at least one.
fn rows_of(inputs: usize, width: usize) -> usize {
    inputs.div_ceil(width).max(1)
}

/// `items` in rows of `width`, and one empty row when there are none.
fn chunks<T>(items: &[T], width: usize) -> impl Iterator<Item = &[T]> {
    (0..rows_of(items.len(), width)).map(move |r| &items[(r * width).min(items.len())..((r + 1) * width).min(items.len())])
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
        assert!(shape.limbs >= 2, "the function gate splits a value into a table index and at least one limb above it");
        let a: Vec<Advice> = (0..shape.width).map(|_| cs.advice_column()).collect();
        let (acc, rc, rc_msb) = (cs.advice_column(), cs.advice_column(), cs.advice_column());
        let w: Vec<Fixed> = (0..shape.width).map(|_| cs.fixed_column()).collect();
        let (keep, bias) = (cs.fixed_column(), cs.fixed_column());
        let [q_dot, q_rc, q_fn_sample, q_fn_out, q_range, q_div] = [(); 6].map(|_| cs.selector());
        let (t_tag, t_value, t_msb) = (cs.table_column(), cs.table_column(), cs.table_column());
        let instance = cs.instance_column();
        for col in a.iter().chain([&acc]) {
            cs.enable_equality(*col);
        }
        cs.enable_equality(instance);

        let dot = a.iter().zip(&w).fold(acc.next() - keep.cur() * acc.cur() - bias.cur(), |e, (a, w)| e - a.cur() * w.cur());
        cs.create_gate("dot", vec![q_dot.expr() * dot]);
        // Private parameters: input `a[i]` pairs with the weight cell `a[half + i]`, and the
        // fixed `w[i]` is 1 for a parameter, a constant `c` times a copy of the cell holding 1,
        // or 0 for an empty slot (whose advice cells are then free). Degree 4, as the element
        // gate already is.
        let q_param_dot = (shape.private_params || shape.products).then(|| {
            let q = cs.selector();
            let half = shape.width / 2;
            let sum = (0..half).fold(acc.next() - keep.cur() * acc.cur() - bias.cur(), |e, i| e - a[i].cur() * a[half + i].cur() * w[i].cur());
            cs.create_gate("param dot", vec![q.expr() * sum]);
            q
        });

        // Element constants live in the weight columns, which are free on element rows.
        let (half, div, exact, relu, sub) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur(), w[4].cur());
        let (x, y, out, other) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur());
        let bits = shape.limb_bits;
        let base = Fr::from(1u64 << bits);
        // `sum rc[first + i] * 2^(bits * i)` over `count` limbs.
        let limbs_from = |first: i32, count: usize| (first..first + count as i32).rev().fold(Expression::Constant(Fr::zero()), |e, i| e * base + rc.rot(i));
        let remainder_limbs = shape.remainder_limbs();
        // One gate per limb count of the result, the same but for its range check. The
        // result's limbs come first, then a rescale's remainder; an exact step has none (its
        // remainder's rows are the next item's, which `1 - exact` keeps out of the identity).
        let q_el: Vec<(usize, Selector)> = shape
            .element_limb_counts()
            .map(|m| {
                let q_el = cs.selector();
                let q = q_el.expr();
                let name = if m == shape.limbs { "element".to_string() } else { format!("element of {m} limbs") };
                let remainder = (constant(1) - exact.clone()) * limbs_from(m as i32, remainder_limbs);
                cs.create_gate(
                    &name,
                    vec![
                        q.clone() * (x.clone() - other.clone() * sub.clone() + half.clone() - y.clone() * div.clone() - remainder),
                        q.clone() * (y.clone() + Expression::Constant(fr(shape.bound_at(m))) - limbs_from(0, m)),
                        q * (out.clone() - y.clone() + relu.clone() * y.clone() * (constant(1) - rc_msb.rot(m as i32 - 1)) - other.clone() * sub.clone()),
                    ],
                );
                (m, q_el)
            })
            .collect();

        // A function lookup spans two blocks (see `function`). The sample block: `x` splits
        // as `x * step_scale + offset = fine + 2^bits * index + interval_scale * above`
        // (`interval_scale = 2^(bits + grid)`),
        // with `fine` range checked, `index` and `index + 1` looked up with the function's
        // tag (so both samples come from the table, and `index < 2^grid`), and `above`
        // passed on to be decomposed in the output block.
        let q = q_fn_sample.expr();
        let (x, sample, slope_fine, above) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur());
        let (step_scale, offset, interval_scale) = (w[0].cur(), w[1].cur(), w[2].cur());
        cs.create_gate(
            "function samples",
            vec![
                q.clone() * (x * step_scale + offset - rc.cur() - rc.rot(1) * base - above * interval_scale),
                q.clone() * (rc.rot(2) - rc.rot(1) - constant(1)),
                q.clone() * (sample - rc_msb.rot(1)),
                q * (slope_fine - (rc_msb.rot(2) - rc_msb.rot(1)) * rc.cur()),
            ],
        );
        // The output block: `above` in `limbs - 1` limbs (its sign from the top limb), the
        // interpolation `slope * fine + half = 2^bits * t + rem` with `rem` and `t + half`
        // range checked, then the sample plus `t` when `above` is 0, the function's limit
        // below or above the table's interval otherwise (above may be forbidden).
        let q = q_fn_out.expr();
        let (above, sample, slope_fine, in_table, inverse) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur(), a[4].cur());
        let (below_limit, limit_span, forbid_above, step_offset) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur());
        let high = shape.limbs as i32 - 1;
        let half = Expression::Constant(fr(1 << (bits - 1)));
        let t = rc.rot(high + 1) - step_offset;
        let nonnegative = rc_msb.rot(high - 1);
        let outside = constant(1) - in_table.clone();
        cs.create_gate(
            "function output",
            vec![
                q.clone() * (above.clone() + Expression::Constant(fr(1i64 << (bits as usize * (shape.limbs - 1) - 1))) - limbs_from(0, shape.limbs - 1)),
                q.clone() * (slope_fine + half - t.clone() * base - rc.rot(high)),
                q.clone() * (in_table.clone() - constant(1) + above.clone() * inverse),
                q.clone() * above * in_table.clone(),
                q.clone() * (acc.cur() - in_table * (sample + t) - outside.clone() * (below_limit + nonnegative.clone() * limit_span)),
                q * outside * nonnegative * forbid_above,
            ],
        );

        // Range checks of `a[0] + offset` in `limbs` limbs, and the division
        // `2^(scale_bits + 1) * n + d = 2 * d * q + r`, `0 <= r < 2 * d`: `r` (this row's range
        // check), `2d - 1 - r` and `q + bound` are range checked, so q is the rounded quotient.
        cs.create_gate("range", vec![q_range.expr() * (a[0].cur() + w[0].cur() - limbs_from(0, shape.limbs))]);
        let q_input_range = (shape.input_limbs < shape.limbs).then(|| {
            let q = cs.selector();
            cs.create_gate("input range", vec![q.expr() * (a[0].cur() + w[0].cur() - limbs_from(0, shape.input_limbs))]);
            q
        });
        let (r, n, d, quotient, r_gap) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur(), a[4].cur());
        cs.create_gate(
            "divide",
            vec![
                q_div.expr() * (n * fr(1 << (shape.scale_bits + 1)) + d.clone() - quotient * d.clone() * constant(2) - r.clone()),
                q_div.expr() * (d * constant(2) - constant(1) - r - r_gap),
            ],
        );

        // The tag shares the bias column: dot rows never look anything up.
        cs.lookup("table", q_rc.expr(), vec![(bias.cur(), t_tag), (rc.cur(), t_value), (rc_msb.cur(), t_msb)]);
        Self { shape, a, acc, rc, rc_msb, w, keep, bias, q_dot, q_el, q_rc, q_fn_sample, q_fn_out, q_range, q_input_range, q_div, q_param_dot, t_tag, t_value, t_msb, instance }
    }

    /// The functions' tables, for a model that looks them up (one table per sampled function:
    /// Sigmoid and Tanh share one): those that the scale and limb allow (see [`FunctionTable`]).
    fn function_tables(&self) -> Vec<FunctionTable> {
        let used = |f: &Function| Function::ALL.iter().any(|g| self.shape.functions & g.bit() != 0 && g.sampled() == *f);
        Function::ALL.iter().filter(|f| used(f)).filter_map(|f| FunctionTable::new(*f, self.shape).ok()).collect()
    }

    /// The narrow range of the remainder's top limb, where it is narrower than a limb.
    fn narrow_bits(&self) -> Option<u32> {
        Some(self.shape.top_remainder_bits()).filter(|&b| b < self.shape.limb_bits)
    }

    /// Rows the lookup table takes: the range rows, every function's samples and the narrow
    /// range.
    pub fn table_rows(&self) -> usize {
        (1 << self.shape.limb_bits) + self.function_tables().iter().map(|t| t.samples.len()).sum::<usize>() + self.narrow_bits().map_or(0, |b| 1 << b)
    }

    pub fn load_table(&self, layouter: &mut Layouter) -> Result<(), Error> {
        let bits = self.shape.limb_bits;
        let range = (0..1u64 << bits).map(|v| vec![Fr::zero(), Fr::from(v), Fr::from(v >> (bits - 1))]);
        let samples = self.function_tables().into_iter().flat_map(|table| {
            let tag = table.function.tag();
            (0..table.samples.len()).map(move |i| vec![Fr::from(tag), Fr::from(i as u64), fr(table.samples[i])])
        });
        let narrow = self.narrow_bits().into_iter().flat_map(|b| (0..1u64 << b).map(|v| vec![Fr::from(NARROW_TAG), Fr::from(v), Fr::zero()]));
        let rows: Vec<Vec<Fr>> = range.chain(samples).chain(narrow).collect();
        layouter.assign_table("lookup", &[self.t_tag, self.t_value, self.t_msb], &rows)
    }

    /// Places private values, `width` to a row, with no constraint of their own.
    pub fn assign_values(&self, layouter: &mut Layouter, values: &[Value<i64>]) -> Result<Vec<AssignedCell>, Error> {
        layouter
            .assign_region("values", |region| values.iter().enumerate().map(|(i, v)| region.assign_advice(self.a[i % self.shape.width], i / self.shape.width, v.map(fr))).collect())
    }

    /// Dot products `bias + sum inputs[i] * weights[i]`, one after another in one region:
    /// each product's result sits in the accumulator on the row where the next one starts.
    /// A product takes a row per `width` inputs, and one when it has none (a convolution's
    /// window entirely in the padding is its bias); blocks of products are filled in parallel.
    pub fn dot(&self, layouter: &mut Layouter, products: &[DotProduct]) -> Result<Vec<AssignedCell>, Error> {
        let width = self.shape.width;
        if let Some(p) = products.iter().find(|p| p.inputs.len() != p.weights.len()) {
            return Err(Error::Synthesis(format!("a dot product needs as many weights as inputs ({} inputs, {} weights)", p.inputs.len(), p.weights.len())));
        }
        let blocks = blocks_of_rows(products.iter().map(|p| rows_of(p.inputs.len(), width)));
        let heights: Vec<usize> = blocks.iter().map(|(_, rows)| *rows).collect();
        layouter.assign_region("dot", |region| {
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            let outputs = region.blocks(0, &heights, |i, region| {
                let mut row = 0;
                let mut outputs = Vec::new();
                for p in &products[blocks[i].0.clone()] {
                    let mut value = Value::known(fr(p.bias));
                    let mut result = None;
                    for (c, (xs, ws)) in chunks(&p.inputs, width).zip(chunks(&p.weights, width)).enumerate() {
                        region.enable_selector(self.q_dot, row);
                        region.assign_fixed(self.keep, row, if c == 0 { Fr::zero() } else { Fr::ONE });
                        region.assign_fixed(self.bias, row, if c == 0 { fr(p.bias) } else { Fr::zero() });
                        for (k, (x, w)) in xs.iter().zip(ws).enumerate() {
                            let w = fr(*w);
                            region.copy_advice(x, self.a[k], row)?;
                            region.assign_fixed(self.w[k], row, w);
                            value = value.zip(x.value).map(|(acc, x)| acc + x * w);
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
            })?;
            Ok(outputs.into_iter().flatten().collect())
        })
    }

    /// Dot products whose coefficients are witnesses, as `dot` lays them out but with
    /// `width / 2` inputs a row, each beside its coefficient's cell. A parameter's first use
    /// places its cell (recorded in `placed` under its id); every later use copies it, so one
    /// parameter holds one value throughout the proof. `one` is a cell holding 1, copied beside
    /// each constant coefficient.
    pub fn param_dot(&self, layouter: &mut Layouter, one: &AssignedCell, placed: &mut HashMap<usize, AssignedCell>, products: &[ParamDot]) -> Result<Vec<AssignedCell>, Error> {
        let q = self.q_param_dot.ok_or_else(|| Error::Synthesis("the circuit was configured without the param dot gate (fixed parameters, no products)".into()))?;
        let half = self.shape.width / 2;
        layouter.assign_region("param dot", |region| {
            let mut row = 0;
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            let mut outputs = Vec::with_capacity(products.len());
            for p in products {
                if p.inputs.len() != p.coefficients.len() {
                    return Err(Error::Synthesis(format!("a dot product needs as many coefficients as inputs ({} inputs, {} coefficients)", p.inputs.len(), p.coefficients.len())));
                }
                let mut value = Value::known(fr(p.bias));
                let mut result = None;
                for (c, (xs, cs)) in chunks(&p.inputs, half).zip(chunks(&p.coefficients, half)).enumerate() {
                    region.enable_selector(q, row);
                    region.assign_fixed(self.keep, row, if c == 0 { Fr::zero() } else { Fr::from(1u64) });
                    region.assign_fixed(self.bias, row, if c == 0 { fr(p.bias) } else { Fr::zero() });
                    for (k, (x, coefficient)) in xs.iter().zip(cs).enumerate() {
                        region.copy_advice(x, self.a[k], row)?;
                        let (factor, weight) = match coefficient {
                            Coefficient::Constant(c) => (*c, region.copy_advice(one, self.a[half + k], row)?),
                            Coefficient::Param { id, value } => match placed.get(id) {
                                Some(cell) => (1, region.copy_advice(cell, self.a[half + k], row)?),
                                None => {
                                    let cell = region.assign_advice(self.a[half + k], row, Value::known(fr(*value)))?;
                                    placed.insert(*id, cell);
                                    (1, cell)
                                }
                            },
                            Coefficient::Cell(cell) => (1, region.copy_advice(cell, self.a[half + k], row)?),
                        };
                        region.assign_fixed(self.w[k], row, fr(factor));
                        value = value.zip(x.value).zip(weight.value).map(|((acc, x), w)| acc + x * w * fr(factor));
                    }
                    row += 1;
                    result = Some(region.assign_advice(self.acc, row, value)?);
                }
                outputs.extend(result);
            }
            Ok(outputs)
        })
    }

    /// A cell that holds `value` in every proof: the dot gate with no inputs and bias
    /// `value`; two rows.
    pub fn constant(&self, layouter: &mut Layouter, value: i64) -> Result<AssignedCell, Error> {
        layouter.assign_region("constant", |region| {
            region.enable_selector(self.q_dot, 0);
            region.assign_fixed(self.bias, 0, fr(value));
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            region.assign_advice(self.acc, 1, Value::known(fr(value)))
        })
    }

    /// Element-wise rescaling, range check of the result in `limbs` limbs (one of the shape's
    /// `element_limbs`) and activation; `limbs + remainder_limbs` rows each, `limbs` without
    /// the rescale.
    pub fn element(&self, layouter: &mut Layouter, op: ElementOp, limbs: usize, items: &[(AssignedCell, Option<AssignedCell>)]) -> Result<Vec<AssignedCell>, Error> {
        let Shape { scale_bits, limb_bits, .. } = self.shape;
        let q_el = self.q_el.iter().find(|(m, _)| *m == limbs).map(|(_, q)| *q).ok_or_else(|| Error::Synthesis(format!("the circuit has no element gate of {limbs} limbs")))?;
        let bound = self.shape.bound_at(limbs);
        let half = if op.rescale { fr(1 << (scale_bits - 1)) } else { Fr::zero() };
        let div = if op.rescale { fr(1 << scale_bits) } else { Fr::from(1u64) };
        let remainder_limbs = self.shape.remainder_limbs();
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
                for j in (0..remainder_limbs).filter(|_| op.rescale) {
                    // The top limb of a remainder narrower than its limbs: its own range.
                    let tag = if j + 1 == remainder_limbs && self.narrow_bits().is_some() { NARROW_TAG } else { 0 };
                    self.table_row(region, row + limbs + j, tag, computed.map(|(_, _, r)| (limb(r, j), if tag == 0 { limb(r, j) >> (limb_bits - 1) } else { 0 })))?;
                }
                outputs.push(out);
            }
            Ok(outputs)
        })
    }

    /// `c0 * a + c1 * b` per item: dot products of two inputs, chained, so one row each and
    /// one more at the end (a gate of its own would cost a selector column).
    pub fn linear(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64, AssignedCell, i64)]) -> Result<Vec<AssignedCell>, Error> {
        let products: Vec<DotProduct> = items.iter().map(|(a, c0, b, c1)| DotProduct { inputs: vec![*a, *b], weights: vec![*c0, *c1], bias: 0 }).collect();
        self.dot(layouter, &products)
    }

    /// Looks up one row of the table: `tag` 0 with a range-checked `value` and its top bit,
    /// or a function's tag with a sample index and the sample.
    fn table_row(&self, region: &mut Region, row: usize, tag: u64, entry: Value<(i64, i64)>) -> Result<(), Error> {
        region.enable_selector(self.q_rc, row);
        region.assign_fixed(self.bias, row, Fr::from(tag));
        region.assign_advice(self.rc, row, entry.map(|(v, _)| fr(v)))?;
        region.assign_advice(self.rc_msb, row, entry.map(|(_, second)| fr(second)))?;
        Ok(())
    }

    /// A range-checked limb: the value and its top bit.
    fn limb(&self, v: i64) -> (i64, i64) {
        (v, v >> (self.shape.limb_bits - 1))
    }

    /// `f(x)` per input, `limbs + 4` rows each: a sample block of three rows (the fine part
    /// of `x` and the two samples around it), then an output block of `limbs + 1` rows (the
    /// part of `x` beyond the table, and the interpolation's remainder and step).
    pub fn function(&self, layouter: &mut Layouter, f: Function, inputs: &[AssignedCell]) -> Result<Vec<AssignedCell>, Error> {
        let Shape { limb_bits: bits, limbs, .. } = self.shape;
        let table = FunctionTable::new(f, self.shape).map_err(Error::Synthesis)?;
        // The input's steps fill a limb; Tanh reads Sigmoid's samples at twice its input.
        let step_scale = 1i64 << (bits - table.step_bits);
        let tag = table.sampled.tag();
        let (span, forbid) = match table.above {
            Some(above) => (above - table.below, 0),
            None => (0, 1),
        };
        let above_bound = 1i64 << (bits as usize * (limbs - 1) - 1);
        let mask = (1i64 << bits) - 1;
        let looked_up = layouter.assign_region("function", |region| {
            let mut outputs = Vec::with_capacity(inputs.len());
            for (i, x) in inputs.iter().enumerate() {
                let row = i * (limbs + 4);
                let w = x.value.map(|v| -> Result<_, Error> { table.witness(to_i64(v).ok_or_else(out_of_range)?, limbs).map_err(Error::Synthesis) }).transpose()?;

                region.enable_selector(self.q_fn_sample, row);
                region.assign_fixed(self.w[0], row, fr(step_scale * table.in_factor));
                region.assign_fixed(self.w[1], row, fr(-table.start * step_scale));
                region.assign_fixed(self.w[2], row, fr(1 << (bits + table.grid)));
                region.copy_advice(x, self.a[0], row)?;
                let sample = region.assign_advice(self.a[1], row, w.map(|w| fr(w.sample)))?;
                let slope_fine = region.assign_advice(self.a[2], row, w.map(|w| fr(w.slope_fine)))?;
                let above = region.assign_advice(self.a[3], row, w.map(|w| fr(w.above)))?;
                self.table_row(region, row, 0, w.map(|w| self.limb(w.fine)))?;
                self.table_row(region, row + 1, tag, w.map(|w| (w.index, w.sample)))?;
                self.table_row(region, row + 2, tag, w.map(|w| (w.index + 1, w.next_sample)))?;

                let row = row + 3;
                region.enable_selector(self.q_fn_out, row);
                for (col, v) in self.w[..4].iter().zip([table.below, span, forbid, table.step_offset]) {
                    region.assign_fixed(*col, row, fr(v));
                }
                region.copy_advice(&above, self.a[0], row)?;
                region.copy_advice(&sample, self.a[1], row)?;
                region.copy_advice(&slope_fine, self.a[2], row)?;
                region.assign_advice(self.a[3], row, w.map(|w| Fr::from((w.above == 0) as u64)))?;
                region.assign_advice(self.a[4], row, w.map(|w| fr(w.above).inverse().unwrap_or(Fr::zero())))?;
                outputs.push(region.assign_advice(self.acc, row, w.map(|w| fr(w.looked_up)))?);
                for j in 0..limbs - 1 {
                    self.table_row(region, row + j, 0, w.map(|w| self.limb(((w.above + above_bound) >> (bits as usize * j)) & mask)))?;
                }
                self.table_row(region, row + limbs - 1, 0, w.map(|w| self.limb(w.rem)))?;
                self.table_row(region, row + limbs, 0, w.map(|w| self.limb(w.t + table.step_offset)))?;
            }
            Ok(outputs)
        })?;
        if table.out_factor == 1 && table.out_offset == 0 {
            return Ok(looked_up);
        }
        let products: Vec<DotProduct> = looked_up.into_iter().map(|y| DotProduct { inputs: vec![y], weights: vec![table.out_factor], bias: table.out_offset }).collect();
        self.dot(layouter, &products)
    }

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

    /// Range checks the model's input, `input_limbs` rows a value: each `(cell, least)` in
    /// `[least, least + 2^(input_limbs limb_bits))`.
    pub fn range_check_inputs(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64)]) -> Result<(), Error> {
        self.range_region(layouter, items, (self.q_input_range.unwrap_or(self.q_range), self.shape.input_limbs))
    }

    /// Each `(cell, least)` in `[least, least + 2^(limbs limb_bits))` with the `(selector,
    /// limbs)` range gate.
    fn range_region(&self, layouter: &mut Layouter, items: &[(AssignedCell, i64)], gate: (Selector, usize)) -> Result<(), Error> {
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
    fn range_rows(&self, region: &mut Region, start: usize, value: Value<Fr>, offset: i64, (selector, limbs): (Selector, usize)) -> Result<(), Error> {
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

/// One dot product with witness coefficients: `bias + sum inputs[i] * coefficients[i]`,
/// the bias fixed.
pub struct ParamDot {
    pub inputs: Vec<AssignedCell>,
    pub coefficients: Vec<Coefficient>,
    pub bias: i64,
}

#[derive(Clone, Copy, Debug)]
pub enum Coefficient {
    /// A constant of the computation, in a fixed column.
    Constant(i64),
    /// A parameter of the model, a witness; `id` names it across products.
    Param { id: usize, value: i64 },
    /// A computed value: the product of two computed values.
    Cell(AssignedCell),
}

fn out_of_range() -> Error {
    Error::Synthesis("a value does not fit in 64 bits".into())
}

/// `round(n * 2^scale_bits / d)`, rounding half up, and the remainder `r` of
/// `2^(scale_bits + 1) * n + d = 2 * d * q + r`: the division gadget's integer semantics.
/// `floor(sqrt(v 2^scale_bits))`, the root the `sqrt` gadget proves; `None` for a negative `v`.
pub fn floor_sqrt(v: i64, scale_bits: u32) -> Option<i64> {
    u128::try_from(v).ok().map(|v| (v << scale_bits).isqrt() as i64)
}

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

/// A nonlinear function held in the lookup table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Sigmoid,
    Tanh,
    Exp,
    Erf,
    /// `log(1 + e^-|x|)`, softplus's part beyond `relu(x)`: an even function between 0 and
    /// `ln 2`, where softplus itself grows without limit.
    SoftplusTail,
}

impl Function {
    pub const ALL: [Function; 5] = [Function::Sigmoid, Function::Tanh, Function::Exp, Function::Erf, Function::SoftplusTail];

    fn name(self) -> &'static str {
        match self {
            Function::Sigmoid => "Sigmoid",
            Function::Tanh => "Tanh",
            Function::Exp => "Exp",
            Function::Erf => "Erf",
            Function::SoftplusTail => "Softplus",
        }
    }

    /// The function whose samples a lookup of this one reads: Sigmoid's for Tanh (`tanh(x) = 2
    /// sigmoid(2x) - 1`), its own for the others.
    pub fn sampled(self) -> Function {
        match self {
            Function::Tanh => Function::Sigmoid,
            f => f,
        }
    }

    /// The bit of [`Shape::functions`] that puts this function's table in the lookup table.
    pub fn bit(self) -> u32 {
        1 << self.tag()
    }

    /// Table rows tagged 0 are range checks.
    fn tag(self) -> u64 {
        Self::ALL.iter().position(|f| *f == self).expect("every function is in ALL") as u64 + 1
    }

    /// The function itself, from `+ - * /` alone: the table's samples and the float model's
    /// reference both come from here.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Function::Sigmoid => 1.0 / (1.0 + exp(-x)),
            Function::Tanh => 1.0 - 2.0 / (exp(2.0 * x) + 1.0),
            Function::Exp => exp(x),
            Function::Erf => erf(x),
            Function::SoftplusTail => log_one_plus(exp(-x.abs())),
        }
    }

    /// `log2` of the sampled interval's length (real units): beyond the interval the
    /// fixed-point output is its limit to within half a step of `2^-bits` (the scale). Sigmoid
    /// and Softplus's tail are sampled on `[-L/2, L/2)`; Exp on `(-L, 0]` shifted up by one
    /// sample, since the softmax's largest input is exactly 0.
    fn interval_bits(self, bits: u32) -> u32 {
        let ln2 = std::f64::consts::LN_2;
        let length = match self {
            // sigmoid(-x) < e^-x < 2^-(bits + 2) for x > (bits + 2) ln 2: then Tanh, read as
            // 2 sigmoid(2x) - 1, is within 2^-(bits + 1) of its limits too.
            Function::Sigmoid => 2.0 * (bits + 2) as f64 * ln2,
            // Sigmoid's samples, read at 2x.
            Function::Tanh => return Function::Sigmoid.interval_bits(bits),
            // log(1 + e^-x) < e^-x < 2^-(bits + 1) for x > (bits + 1) ln 2.
            Function::SoftplusTail => 2.0 * (bits + 1) as f64 * ln2,
            // e^-x < 2^-(bits + 1) for x > (bits + 1) ln 2, plus one sample (at most 1).
            Function::Exp => (bits + 1) as f64 * ln2 + 1.0,
            // 1 - erf(x) < e^(-x^2) < 2^-(bits + 1) for x > sqrt((bits + 1) ln 2) (and x >= 1).
            Function::Erf => 2.0 * ((bits + 1) as f64 * ln2).sqrt().max(1.0),
        };
        (0..).find(|b| (1u64 << b) as f64 >= length).expect("a power of two exceeds any length")
    }

    /// The fixed-point outputs below and above the interval; `None` where there is no limit
    /// (Exp), and inputs there are refused.
    fn limits(self, bits: u32) -> (i64, Option<i64>) {
        let one = 1i64 << bits;
        match self {
            Function::Sigmoid => (0, Some(one)),
            Function::Tanh | Function::Erf => (-one, Some(one)),
            Function::SoftplusTail => (0, Some(0)),
            Function::Exp => (0, None),
        }
    }
}

/// `e^x` from `+ - * /` alone: table entries are fixed in the verifying key, so they must come
/// out bit for bit the same wherever keys and proofs are made, which libm's `exp` does not
/// promise. `e^x = (e^(x / 2^10))^(2^10)`, the inner power by its Taylor series.
fn exp(x: f64) -> f64 {
    let y = x / 1024.0;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..=12 {
        term *= y / k as f64;
        sum += term;
    }
    (0..10).fold(sum, |p, _| p * p)
}

/// `log(1 + y)` for `0 <= y <= 1` from `+ - * /` alone (see [`exp`]): `2 atanh(z)`, `z = y / (2 +
/// y) <= 1/3`, by its series, which gains a factor of 9 a term.
fn log_one_plus(y: f64) -> f64 {
    let z = y / (2.0 + y);
    let (mut power, mut sum) = (z, 0.0);
    for k in 0..40 {
        sum += power / (2 * k + 1) as f64;
        power *= z * z;
    }
    2.0 * sum
}

/// `erf(x)` from `+ - * /` alone (see [`exp`]). Below 3 in magnitude its Taylor series `2 /
/// sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n + 1))`, whose largest term there is under 200 (three
/// of 16 digits lost to cancellation); above, `1 - erfc(x)` with Laplace's continued fraction
/// `erfc(x) = e^(-x^2) / (sqrt(pi) (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))))`; from 6 on,
/// 1 to 16 digits.
fn erf(x: f64) -> f64 {
    const SQRT_PI: f64 = 1.772_453_850_905_516;
    let a = if x < 0.0 { -x } else { x };
    let magnitude = if a >= 6.0 {
        1.0
    } else if a >= 3.0 {
        let fraction = (1..=80).rev().fold(a, |t, k| a + (k as f64 / 2.0) / t);
        1.0 - exp(-a * a) / (SQRT_PI * fraction)
    } else {
        let (mut power, mut sum) = (a, 0.0);
        for n in 0..60 {
            sum += power / (2 * n + 1) as f64;
            power *= -a * a / (n + 1) as f64;
        }
        2.0 / SQRT_PI * sum
    };
    if x < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

/// How many times the range table's rows one function's table may take: the tables' rows are
/// the cost of a finer scale for a model with functions (at 2^-20 on limbs of 12 bits Sigmoid
/// and Tanh take 2^13 samples, Exp 2^14: 2^15 rows where 2^-16 takes 2^13).
const MAX_GRID_OVER_LIMB: u32 = 2;

/// One function's samples at scale `2^scale`: `samples[i] = round(f(start + i * 2^step_bits)
/// * 2^scale)` (inputs in fixed point) for `i` in `0..=2^grid`. An input `x` in the interval
/// `[start, start + 2^(step_bits + grid))` is `start + index * 2^step_bits + r` with
/// `0 <= r < 2^step_bits`, and its output `samples[index] + round(r * slope / 2^step_bits)`,
/// `slope = samples[index + 1] - samples[index]`. Tanh reads Sigmoid's samples, as
/// `tanh(x) = 2 sigmoid(2x) - 1` (exact in fixed point): a model with both pays for one table.
#[derive(Clone, Debug)]
pub struct FunctionTable {
    function: Function,
    /// The function whose samples the table holds ([`Function::sampled`]), and how `function`
    /// reads them: `function(x) = out_factor * sampled(in_factor * x) + out_offset`.
    sampled: Function,
    in_factor: i64,
    out_factor: i64,
    out_offset: i64,
    /// The fixed point of inputs, samples and outputs.
    scale: u32,
    /// The limb: an input's fine part and an interpolation step each fill one.
    bits: u32,
    grid: u32,
    step_bits: u32,
    start: i64,
    samples: Vec<i64>,
    below: i64,
    above: Option<i64>,
    /// Added to an interpolation step before its range check in one limb: 0 where the samples
    /// only rise (steps in `[0, 2^bits)`), `2^bits - 1` where they only fall, half a limb
    /// otherwise. A monotone function's steps thus take the whole limb, which halves the samples
    /// its slope asks for.
    step_offset: i64,
}

/// The values one lookup lays out.
#[derive(Clone, Copy, Debug)]
pub struct FunctionWitness {
    /// The function's output, and the sampled function's that the lookup gives (the same but
    /// for Tanh).
    pub out: i64,
    looked_up: i64,
    /// `r * 2^(bits - step_bits)`: the fine part, scaled to fill one limb.
    fine: i64,
    index: i64,
    sample: i64,
    next_sample: i64,
    slope_fine: i64,
    /// How many intervals the input lies above the table's (negative: below).
    above: i64,
    t: i64,
    rem: i64,
}

impl FunctionTable {
    /// The table for `function` at the shape's scale and limb: `2^(bits - 2) + 1` samples (more
    /// if the interval needs them, an input's step would not fit one limb, or an interpolation
    /// step would not fit one): with three functions at a scale of one limb the table stays
    /// within the `2^(bits + 1)` rows the range table already forces, and the chords are within
    /// half a fixed-point step of the curves from scale 8 on. Beyond one limb of scale a table
    /// has at most `2^(bits + MAX_GRID_OVER_LIMB) + 1` samples (Sigmoid at 2^-20 takes 2^13, Exp
    /// 2^14); a scale that needs more is an error.
    pub fn new(function: Function, shape: Shape) -> Result<Self, String> {
        let (scale, bits) = (shape.scale_bits, shape.limb_bits);
        let sampled = function.sampled();
        let interval = sampled.interval_bits(scale);
        let mut table = ((bits.saturating_sub(2)).max((interval + scale).saturating_sub(bits))..=interval + scale)
            .map(|grid| Self::with_grid(sampled, scale, bits, grid))
            .find(Self::steps_fit)
            .expect("one sample per fixed-point step needs no interpolation");
        if function == Function::Tanh {
            (table.function, table.in_factor, table.out_factor, table.out_offset) = (function, 2, 2, -(1i64 << scale));
        }
        if scale > bits && table.grid > bits + MAX_GRID_OVER_LIMB {
            return Err(format!(
                "{} at scale 2^-{scale} needs a table of 2^{} samples, more than {} times the range table of limbs of {bits} bits; compile with a coarser --scale",
                function.name(),
                table.grid,
                1 << MAX_GRID_OVER_LIMB
            ));
        }
        Ok(table)
    }

    fn with_grid(function: Function, scale: u32, bits: u32, grid: u32) -> Self {
        let interval = function.interval_bits(scale);
        let step_bits = interval + scale - grid;
        let start = match function {
            Function::Exp => (1i64 << step_bits) - (1i64 << (interval + scale)),
            Function::Sigmoid | Function::Tanh | Function::Erf | Function::SoftplusTail => -(1i64 << (interval + scale - 1)),
        };
        let one = (1u64 << scale) as f64;
        let samples: Vec<i64> = (0..=1i64 << grid).map(|i| (function.eval((start + (i << step_bits)) as f64 / one) * one).round() as i64).collect();
        let (below, above) = function.limits(scale);
        let slopes = || samples_slopes(&samples);
        let step_offset = match (slopes().all(|d| d >= 0), slopes().all(|d| d <= 0)) {
            (true, _) => 0,
            (_, true) => (1 << bits) - 1,
            _ => 1 << (bits - 1),
        };
        Self { function, sampled: function, in_factor: 1, out_factor: 1, out_offset: 0, scale, bits, grid, step_bits, start, samples, below, above, step_offset }
    }

    /// Every output the lookup can give, `(least, greatest)`: an interpolation lies between its
    /// two samples, and beyond the table come the limits.
    pub fn outputs(&self) -> (i64, i64) {
        let ends = self.samples.iter().copied().chain([self.below]).chain(self.above);
        let (lo, hi) = ends.fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (self.out_factor * lo + self.out_offset, self.out_factor * hi + self.out_offset)
    }

    /// Whether every interpolation step `t`, which lies between 0 and its slope, fits one limb
    /// after its offset: `t + step_offset` in `[0, 2^bits)`.
    fn steps_fit(&self) -> bool {
        let fits = |t: i64| (0..1 << self.bits).contains(&(t + self.step_offset));
        self.step_bits == 0 || samples_slopes(&self.samples).all(|d| fits(d) && fits(0))
    }

    /// The lookup's witness for input `x` (fixed point) in a circuit of `limbs` limbs.
    pub fn witness(&self, x: i64, limbs: usize) -> Result<FunctionWitness, String> {
        let bits = self.bits;
        let real = |v: i64| v as f64 / (1u64 << self.scale) as f64;
        let u = x as i128 * self.in_factor as i128 - self.start as i128;
        let above = u.div_euclid(1 << (self.step_bits + self.grid));
        let above_bound = 1i128 << (bits as usize * (limbs - 1) - 1);
        if above < -above_bound || above >= above_bound {
            return Err(format!("{} input {} is outside the circuit's range", self.function.name(), real(x)));
        }
        let index = (u >> self.step_bits).rem_euclid(1 << self.grid) as i64;
        let fine = (u.rem_euclid(1 << self.step_bits) as i64) << (bits - self.step_bits);
        let (sample, next_sample) = (self.samples[index as usize], self.samples[index as usize + 1]);
        let slope_fine = (next_sample - sample) * fine;
        let rounded = slope_fine + (1 << (bits - 1));
        let (t, rem) = (rounded.div_euclid(1 << bits), rounded.rem_euclid(1 << bits));
        let looked_up = match (above, self.above) {
            (0, _) => sample + t,
            (a, _) if a < 0 => self.below,
            (_, Some(limit)) => limit,
            (_, None) => {
                let end = self.start + (1 << (self.step_bits + self.grid));
                return Err(format!(
                    "{} input {} is at or above {}, the end of its lookup table (softmax keeps Exp's inputs at or below 0)",
                    self.function.name(),
                    real(x),
                    real(end)
                ));
            }
        };
        let out = self.out_factor * looked_up + self.out_offset;
        Ok(FunctionWitness { out, looked_up, fine, index, sample, next_sample, slope_fine, above: above as i64, t, rem })
    }
}

/// The differences of consecutive samples: the interpolation's slopes.
fn samples_slopes(samples: &[i64]) -> impl Iterator<Item = i64> + '_ {
    samples.windows(2).map(|s| s[1] - s[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(scale_bits: u32, limb_bits: u32) -> Shape {
        Shape {
            width: 8,
            scale_bits,
            limb_bits,
            limbs: 3,
            input_limbs: 3,
            element_limbs: Shape::only(3),
            private_params: false,
            products: false,
            functions: Function::ALL.iter().map(|f| f.bit()).sum(),
        }
    }

    /// The largest error of `f`'s table over the inputs `x` (fixed point), in steps.
    fn worst(table: &FunctionTable, f: Function, scale: u32, inputs: impl Iterator<Item = i64>) -> f64 {
        let one = (1u64 << scale) as f64;
        inputs
            .map(|x| {
                let out = table.witness(x, 3).unwrap().out;
                let exact = match f {
                    Function::Sigmoid => 1.0 / (1.0 + (-(x as f64) / one).exp()),
                    Function::Tanh => (x as f64 / one).tanh(),
                    Function::Exp => (x as f64 / one).exp(),
                    // Checked against published values in the compiler's tests.
                    Function::Erf => f.eval(x as f64 / one),
                    Function::SoftplusTail => (-(x as f64 / one).abs()).exp().ln_1p(),
                };
                (out as f64 - exact * one).abs()
            })
            .fold(0.0, f64::max)
    }

    /// Every scale of one limb has tables whose interpolation steps fit one limb, any three of
    /// which fit beside the range table in the rows it already forces (from scale 7 on), and whose
    /// outputs are close to the function: half a fixed-point step from rounding each sample,
    /// half from rounding the interpolation, and the chord's distance to the curve (under half
    /// a step from scale 8 on; coarser scales have relatively fewer samples). Tanh reads
    /// Sigmoid's samples and doubles them, and their errors with them.
    #[test]
    fn tables_fit_every_scale_of_one_limb() {
        for bits in 2..=12u32 {
            let tables: Vec<FunctionTable> = Function::ALL.iter().map(|f| FunctionTable::new(*f, shape(bits, bits)).unwrap()).collect();
            let mut sizes: Vec<usize> = tables.iter().filter(|t| t.sampled == t.function).map(|t| t.samples.len()).collect();
            sizes.sort_unstable();
            let rows = (1usize << bits) + sizes.iter().rev().take(3).sum::<usize>();
            assert!(bits < 7 || rows < 1 << (bits + 1), "scale {bits}: {rows} table rows");
            for (f, table) in Function::ALL.into_iter().zip(&tables) {
                assert!(table.steps_fit() && table.step_bits <= bits, "scale {bits}: {f:?}");
                let end = if f == Function::Exp { 1 } else { 12 << bits };
                let worst = worst(table, f, bits, -(12 << bits)..end);
                let allowed = match (bits >= 8, f) {
                    (true, Function::Tanh) => 2.5,
                    (true, _) => 1.5,
                    (false, _) => 4.0,
                };
                assert!(worst <= allowed, "scale {bits}: {f:?} is off by {worst} steps");
            }
        }
    }

    /// A rising function's interpolation steps take the whole limb (`step_offset` 0), a falling
    /// one's too, from the other end; a mixed one's half of it either side. Tanh's lookup is
    /// Sigmoid's at twice the input: the same output, doubled, less one.
    #[test]
    fn step_offsets_follow_the_slopes_and_tanh_reads_sigmoid() {
        let at = |f: Function| FunctionTable::new(f, shape(12, 12)).unwrap();
        assert_eq!([at(Function::Sigmoid).step_offset, at(Function::Exp).step_offset, at(Function::SoftplusTail).step_offset], [0, 0, 1 << 11]);
        let (tanh, sigmoid) = (at(Function::Tanh), at(Function::Sigmoid));
        assert_eq!((tanh.sampled, tanh.samples.len()), (Function::Sigmoid, sigmoid.samples.len()));
        for x in [-5000i64, -1, 0, 1, 777, 3 << 12, 20 << 12] {
            let (t, s) = (tanh.witness(x, 3).unwrap(), sigmoid.witness(2 * x, 3).unwrap());
            assert_eq!((t.looked_up, t.out), (s.out, 2 * s.out - 4096), "{x}");
        }
    }

    /// Beyond one limb (limbs of 12 bits) the tables keep at most `2^12 + 1` samples each up to
    /// scale 2^-18, and at most `2^14 + 1` up to 2^-20; at 2^-16 the outputs are within three
    /// steps of the curve, Tanh's three and a half (sampled on every 61st input, the whole
    /// interval and past it); at
    /// 2^-20, with 8 times the samples, within about one and a half, Tanh's within two and a
    /// half.
    #[test]
    fn tables_beyond_one_limb() {
        for scale in 13..=20 {
            let most = if scale <= 18 { 4097 } else { 16385 };
            for f in Function::ALL {
                let table = FunctionTable::new(f, shape(scale, 12)).unwrap();
                assert!(table.steps_fit() && table.step_bits <= 12 && table.samples.len() <= most, "scale {scale}: {f:?}");
            }
        }
        for (scale, step) in [(16, 61), (20, 977)] {
            for f in Function::ALL {
                let table = FunctionTable::new(f, shape(scale, 12)).unwrap();
                let end = if f == Function::Exp { 1 } else { 20 << scale };
                let worst = worst(&table, f, scale, (-(20i64 << scale)..end).step_by(step));
                let allowed = match (scale, f) {
                    (16, Function::Tanh) => 3.5,
                    (16, _) => 3.0,
                    (_, Function::Tanh) => 2.5,
                    _ => 1.5,
                };
                assert!(worst <= allowed, "scale {scale}: {f:?} is off by {worst} steps");
            }
        }
        let err = FunctionTable::new(Function::Sigmoid, shape(16, 8)).unwrap_err();
        assert!(err.contains("Sigmoid at scale 2^-16 needs a table of 2^13 samples, more than 4 times the range table of limbs of 8 bits"), "{err}");
    }

    #[test]
    fn exp_refuses_inputs_above_its_table() {
        let table = FunctionTable::new(Function::Exp, shape(8, 8)).unwrap();
        assert_eq!(table.witness(0, 2).unwrap().out, 256);
        let err = table.witness(256, 2).unwrap_err();
        assert!(err.contains("Exp input 1 is at or above 0.125"), "{err}");
        let sigmoid = FunctionTable::new(Function::Sigmoid, shape(8, 8)).unwrap();
        assert_eq!(sigmoid.witness(40 << 8, 2).unwrap().out, 256);
        assert!(sigmoid.witness(1 << 20, 2).unwrap_err().contains("outside the circuit's range"));
    }

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
