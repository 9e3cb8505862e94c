//! Gadgets for quantized neural networks over one shared set of columns.
//!
//! Values are signed fixed-point integers embedded in the field (negative `v` as `p - |v|`).
//! These gates cover the models we compile, each in a file of its own with its constraints and
//! its assignment, as halo2's chips are:
//! - `dot`: one row adds `width` products of advice inputs with fixed weights to a running
//!   accumulator, so a dot product of length `l` costs `ceil(l / width)` rows and chains into
//!   the next with no gap;
//! - `param dot` (only with private parameters): the same with the weights in advice cells,
//!   `width / 2` input and weight pairs a row, each product masked by a fixed factor (also
//!   products of two computed values, and with them square roots, `sqrt.rs`);
//! - `element`: the range check of the result by `limbs` limbs and ReLU from the top limb's
//!   sign bit, then rescaling by `2^scale_bits` with an exact remainder, range checked in
//!   `remainder_limbs` limbs, all in `limbs + remainder_limbs` rows; `limbs` rows without the
//!   rescale (max is `b + relu(a - b)` through the same gate);
//! - `linear`: `c0 * a + c1 * b` for additions and products with constants, through the dot
//!   gate;
//! - `function`: a nonlinear [`Function`] by table lookup with linear interpolation, its
//!   limit outside the table's interval, in `limbs + 4` rows (`remainder_limbs` more for an
//!   input that is a sum at the products' scale, whose rescale it takes over);
//! - `range`: a value in `limbs` limbs (`input range`: the model input's fewer limbs);
//! - `divide`: rounded division by a computed divisor, in `3 * limbs` rows;
//! - `gather` (only with [`GatherTable`]s): an entry of a fixed table at a computed index, in
//!   one row.
//!
//! This module holds what they share: the columns, the shape and the lookup table.
//!
//! The fixed-point scale (`2^scale_bits`, the values' resolution) and the limb width
//! (`limb_bits`, the range table's size) are independent: a remainder of a rescale wider than a
//! limb takes several limbs, the top one checked against a narrower range where the scale is
//! not a multiple of the limb. One table serves every lookup: rows tagged 0 hold every
//! `limb_bits`-bit value with its top bit (range checks and signs), rows tagged with a function
//! hold its samples, rows tagged [`NARROW_TAG`] every value of the remainder's top limb, and the
//! tags after it the gather tables' entries by their keys. No gate reads a row more than
//! `remainder_limbs + max(limbs - 1, 2)` below its own.

mod divide;
mod dot;
mod element;
mod function;
mod gather;
mod param_dot;
mod range;
mod sqrt;

pub use divide::divide_rounded;
pub use dot::DotProduct;
pub use element::ElementOp;
pub use function::{Function, FunctionTable, FunctionWitness};
pub use gather::GatherTable;
pub use param_dot::{Coefficient, ParamDot};
pub use sqrt::floor_sqrt;

use crate::cs::{Advice, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
use crate::layouter::{AssignedCell, Layouter, Region};
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};
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
    /// Only with gather tables.
    q_gather: Option<Selector>,
    /// The fixed tables read at computed indices, in the lookup table after the narrow range.
    gathers: Vec<GatherTable>,
    t_tag: TableColumn,
    t_value: TableColumn,
    t_msb: TableColumn,
    pub instance: Instance,
}

/// The columns every gate shares, as the gates' `configure` functions read them.
struct Columns<'a> {
    shape: Shape,
    a: &'a [Advice],
    acc: Advice,
    rc: Advice,
    rc_msb: Advice,
    w: &'a [Fixed],
    keep: Fixed,
    bias: Fixed,
}

impl Columns<'_> {
    /// `sum rc[first + i] * 2^(limb_bits * i)` over `count` limbs: a value from its range-checked
    /// limbs.
    fn limbs_from(&self, first: i32, count: usize) -> Expression {
        let base = Fr::from(1u64 << self.shape.limb_bits);
        (first..first + count as i32).rev().fold(Expression::Constant(Fr::zero()), |e, i| e * base + self.rc.rot(i))
    }
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
    pub fn configure(cs: &mut ConstraintSystem, shape: Shape, gathers: Vec<GatherTable>) -> Self {
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

        let cols = Columns { shape, a: &a, acc, rc, rc_msb, w: &w, keep, bias };
        // The order of the gates, and of the selectors some allocate, is the circuit's (and the
        // keys'): keep it.
        dot::configure(cs, &cols, q_dot);
        let q_param_dot = param_dot::configure(cs, &cols);
        let q_el = element::configure(cs, &cols);
        function::configure(cs, &cols, q_fn_sample, q_fn_out);
        let q_input_range = range::configure(cs, &cols, q_range);
        divide::configure(cs, &cols, q_div);
        let q_gather = gather::configure(cs, &cols, !gathers.is_empty());

        // The tag shares the bias column: dot rows never look anything up.
        cs.lookup("table", q_rc.expr(), vec![(bias.cur(), t_tag), (rc.cur(), t_value), (rc_msb.cur(), t_msb)]);
        Self {
            shape,
            a,
            acc,
            rc,
            rc_msb,
            w,
            keep,
            bias,
            q_dot,
            q_el,
            q_rc,
            q_fn_sample,
            q_fn_out,
            q_range,
            q_input_range,
            q_div,
            q_param_dot,
            q_gather,
            gathers,
            t_tag,
            t_value,
            t_msb,
            instance,
        }
    }

    /// The narrow range of the remainder's top limb, where it is narrower than a limb.
    fn narrow_bits(&self) -> Option<u32> {
        Some(self.shape.top_remainder_bits()).filter(|&b| b < self.shape.limb_bits)
    }

    /// Rows the lookup table takes: the range rows, every function's samples, the narrow range
    /// and the gather tables.
    pub fn table_rows(&self) -> usize {
        let gathers: usize = self.gathers.iter().map(|t| t.values.len()).sum();
        (1 << self.shape.limb_bits) + self.function_tables().iter().map(|t| t.samples.len()).sum::<usize>() + self.narrow_bits().map_or(0, |b| 1 << b) + gathers
    }

    pub fn load_table(&self, layouter: &mut Layouter) -> Result<(), Error> {
        let bits = self.shape.limb_bits;
        let range = (0..1u64 << bits).map(|v| vec![Fr::zero(), Fr::from(v), Fr::from(v >> (bits - 1))]);
        let samples = self.function_tables().into_iter().flat_map(|table| {
            let tag = table.function.tag();
            (0..table.samples.len()).map(move |i| vec![Fr::from(tag), Fr::from(i as u64), fr(table.samples[i])])
        });
        let narrow = self.narrow_bits().into_iter().flat_map(|b| (0..1u64 << b).map(|v| vec![Fr::from(NARROW_TAG), Fr::from(v), Fr::zero()]));
        let rows: Vec<Vec<Fr>> = range.chain(samples).chain(narrow).chain(self.gather_rows()).collect();
        layouter.assign_table("lookup", &[self.t_tag, self.t_value, self.t_msb], &rows)
    }

    /// Places private values, `width` to a row, with no constraint of their own.
    pub fn assign_values(&self, layouter: &mut Layouter, values: &[Value<i64>]) -> Result<Vec<AssignedCell>, Error> {
        layouter
            .assign_region("values", |region| values.iter().enumerate().map(|(i, v)| region.assign_advice(self.a[i % self.shape.width], i / self.shape.width, v.map(fr))).collect())
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

    /// A rescale's remainder `r` in `[0, 2^scale_bits)`, range checked in `remainder_limbs` rows
    /// from `row`: the top limb of a remainder narrower than its limbs against its own range.
    fn remainder_rows(&self, region: &mut Region, row: usize, r: Value<i64>) -> Result<(), Error> {
        let (bits, count) = (self.shape.limb_bits as usize, self.shape.remainder_limbs());
        let limb = |j: usize| r.map(|r| (r >> (bits * j)) & ((1 << bits) - 1));
        for j in 0..count {
            let tag = if j + 1 == count && self.narrow_bits().is_some() { NARROW_TAG } else { 0 };
            self.table_row(region, row + j, tag, limb(j).map(|l| (l, if tag == 0 { l >> (bits - 1) } else { 0 })))?;
        }
        Ok(())
    }

    /// A range-checked limb: the value and its top bit.
    fn limb(&self, v: i64) -> (i64, i64) {
        (v, v >> (self.shape.limb_bits - 1))
    }

    /// Makes `cells` public inputs `offset..offset + cells.len()`.
    pub fn expose(&self, layouter: &mut Layouter, cells: &[AssignedCell], offset: usize) -> Result<(), Error> {
        cells.iter().enumerate().try_for_each(|(i, c)| layouter.constrain_instance(c.cell, self.instance, offset + i))
    }
}

fn out_of_range() -> Error {
    Error::Synthesis("a value does not fit in 64 bits".into())
}
