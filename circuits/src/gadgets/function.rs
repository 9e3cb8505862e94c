//! Nonlinear functions by table lookup with linear interpolation, their limit outside the
//! table's interval, in `limbs + 4` rows (`limbs + 4 + remainder_limbs` for an input that is a
//! sum at the products' scale): the `function samples` and `function output` gates, and the
//! tables of samples they read.

use super::{fr, out_of_range, to_i64, Columns, MlConfig, Shape};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::{constant, Error};
use ark_bn254::Fr;
use ark_ff::{Field, Zero};
use zkinfer_verifier::Expression;

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns, q_fn_sample: Selector, q_fn_out: Selector) {
    let Columns { shape, a, acc, rc, rc_msb, w, .. } = *cols;
    let bits = shape.limb_bits;
    let base = Fr::from(1u64 << bits);
    // A function lookup spans two blocks (see `function`). The sample block: `x` splits
    // as `x * step_scale + offset = fine + 2^bits * index + interval_scale * above`
    // (`interval_scale = 2^(bits + grid)`),
    // with `fine` range checked, `index` and `index + 1` looked up with the function's
    // tag (so both samples come from the table, and `index < 2^grid`), and `above`
    // passed on to be decomposed in the output block. An input that is a sum at the
    // products' scale (`sums` 1) is read without its own rescale: `x * step_scale + offset =
    // low + 2^s (fine + 2^bits * index) + interval_scale * above` with `interval_scale` and
    // `offset` taken `2^s` times, and `low` in `[0, 2^s)` in the rows after the samples (a
    // rescale's remainder limbs), so that `fine` is `x` to the nearest `2^-bits` of a sample's
    // step: finer than the input rescaled first.
    let q = q_fn_sample.expr();
    let (x, sample, slope_fine, above) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur());
    let (step_scale, offset, interval_scale, sums) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur());
    let unit = constant(1) + sums.clone() * Expression::Constant(fr((1 << shape.scale_bits) - 1));
    let low = sums * cols.limbs_from(3, shape.remainder_limbs());
    cs.create_gate(
        "function samples",
        vec![
            q.clone() * (x * step_scale + offset - unit * (rc.cur() + rc.rot(1) * base) - above * interval_scale - low),
            q.clone() * (rc.rot(2) - rc.rot(1) - constant(1)),
            q.clone() * (sample - rc_msb.rot(1)),
            q * (slope_fine - (rc_msb.rot(2) - rc_msb.rot(1)) * rc.cur()),
        ],
    );
    // The output block: `above` in `limbs - 1` limbs (its sign from the top limb), the
    // interpolation `slope * fine + half = 2^bits * t + rem` with `rem` and `t + half`
    // range checked, then the sample plus `t` when `above` is 0, the function's limit
    // below or above the table's interval otherwise (above may be forbidden). A function that
    // reads another's samples (Tanh, `2 sigmoid(2x) - 1`) maps the interpolation to its own
    // output here, `y + doubling (y - 1)`, rather than in a row of its own; its limits are its own.
    let q = q_fn_out.expr();
    let (above, sample, slope_fine, in_table, inverse) = (a[0].cur(), a[1].cur(), a[2].cur(), a[3].cur(), a[4].cur());
    let (below_limit, limit_span, forbid_above, step_offset, doubling) = (w[0].cur(), w[1].cur(), w[2].cur(), w[3].cur(), w[4].cur());
    let high = shape.limbs as i32 - 1;
    let half = Expression::Constant(fr(1 << (bits - 1)));
    let one = Expression::Constant(fr(1 << shape.scale_bits));
    let t = rc.rot(high + 1) - step_offset;
    let nonnegative = rc_msb.rot(high - 1);
    let outside = constant(1) - in_table.clone();
    cs.create_gate(
        "function output",
        vec![
            q.clone() * (above.clone() + Expression::Constant(fr(1i64 << (bits as usize * (shape.limbs - 1) - 1))) - cols.limbs_from(0, shape.limbs - 1)),
            q.clone() * (slope_fine + half - t.clone() * base - rc.rot(high)),
            q.clone() * (in_table.clone() - constant(1) + above.clone() * inverse),
            q.clone() * above * in_table.clone(),
            q.clone()
                * (acc.cur()
                    - in_table.clone() * (sample.clone() + t.clone())
                    - in_table * doubling * (sample + t - one)
                    - outside.clone() * (below_limit + nonnegative.clone() * limit_span)),
            q * outside * nonnegative * forbid_above,
        ],
    );
}

impl MlConfig {
    /// The functions' tables, for a model that looks them up (one table per sampled function:
    /// Sigmoid and Tanh share one): those that the scale and limb allow (see [`FunctionTable`]).
    pub(super) fn function_tables(&self) -> Vec<FunctionTable> {
        let used = |f: &Function| Function::ALL.iter().any(|g| self.shape.functions & g.bit() != 0 && g.sampled() == *f);
        Function::ALL.iter().filter(|f| used(f)).filter_map(|f| FunctionTable::new(*f, self.shape).ok()).collect()
    }

    /// `f(x)` per input, `limbs + 4` rows each: a sample block of three rows (the fine part
    /// of `x` and the two samples around it), then an output block of `limbs + 1` rows (the
    /// part of `x` beyond the table, and the interpolation's remainder and step). With `sums`
    /// the inputs are sums at the products' scale `2^-2s` (a dense layer's, before its
    /// rescale), read to a finer step than their rescale would give: the sample block takes
    /// `remainder_limbs` more rows for the part below `2^-s`, where a rescale takes `limbs +
    /// remainder_limbs`.
    pub fn function(&self, layouter: &mut Layouter, f: Function, inputs: &[AssignedCell], sums: bool) -> Result<Vec<AssignedCell>, Error> {
        let Shape { limb_bits: bits, limbs, scale_bits, .. } = self.shape;
        let low_rows = if sums { self.shape.remainder_limbs() } else { 0 };
        let at_sums = |v: i64| if sums { v << scale_bits } else { v };
        let table = FunctionTable::new(f, self.shape).map_err(Error::Synthesis)?;
        // A wrapped `interval_scale` (taken `2^s` times for sums) would leave `above` unconstrained.
        if sums && bits + table.grid + scale_bits >= 62 {
            return Err(Error::Synthesis(format!("{f:?} at scale 2^-{scale_bits} takes a table of 2^{} samples, too many to read sums", table.grid)));
        }
        // The input's steps fill a limb; Tanh reads Sigmoid's samples at twice its input.
        let step_scale = 1i64 << (bits - table.step_bits);
        let tag = table.sampled.tag();
        // The limits as the function's outputs (Tanh's are Sigmoid's, doubled less one).
        let below = table.output(table.below);
        let (span, forbid) = match table.above {
            Some(above) => (table.output(above) - below, 0),
            None => (0, 1),
        };
        let above_bound = 1i64 << (bits as usize * (limbs - 1) - 1);
        let mask = (1i64 << bits) - 1;
        layouter.assign_region("function", |region| {
            let mut outputs = Vec::with_capacity(inputs.len());
            for (i, x) in inputs.iter().enumerate() {
                let row = i * (limbs + 4 + low_rows);
                let w = x
                    .value
                    .map(|v| -> Result<_, Error> {
                        let v = to_i64(v).ok_or_else(out_of_range)?;
                        if sums { table.witness_of_sum(v, limbs) } else { table.witness(v, limbs) }.map_err(Error::Synthesis)
                    })
                    .transpose()?;

                region.enable_selector(self.q_fn_sample, row);
                region.assign_fixed(self.w[0], row, fr(step_scale * table.in_factor));
                // A sum's offset rounds it to the nearest fine step.
                region.assign_fixed(self.w[1], row, fr(at_sums(-table.start * step_scale) + if sums { 1 << (scale_bits - 1) } else { 0 }));
                region.assign_fixed(self.w[2], row, fr(at_sums(1 << (bits + table.grid))));
                region.assign_fixed(self.w[3], row, Fr::from(sums as u64));
                region.copy_advice(x, self.a[0], row)?;
                let sample = region.assign_advice(self.a[1], row, w.map(|w| fr(w.sample)))?;
                let slope_fine = region.assign_advice(self.a[2], row, w.map(|w| fr(w.slope_fine)))?;
                let above = region.assign_advice(self.a[3], row, w.map(|w| fr(w.above)))?;
                self.table_row(region, row, 0, w.map(|w| self.limb(w.fine)))?;
                self.table_row(region, row + 1, tag, w.map(|w| (w.index, w.sample)))?;
                self.table_row(region, row + 2, tag, w.map(|w| (w.index + 1, w.next_sample)))?;
                if sums {
                    self.remainder_rows(region, row + 3, w.map(|w| w.low))?;
                }

                let row = row + 3 + low_rows;
                region.enable_selector(self.q_fn_out, row);
                for (col, v) in self.w[..5].iter().zip([below, span, forbid, table.step_offset, table.doubled as i64]) {
                    region.assign_fixed(*col, row, fr(v));
                }
                region.copy_advice(&above, self.a[0], row)?;
                region.copy_advice(&sample, self.a[1], row)?;
                region.copy_advice(&slope_fine, self.a[2], row)?;
                region.assign_advice(self.a[3], row, w.map(|w| Fr::from((w.above == 0) as u64)))?;
                region.assign_advice(self.a[4], row, w.map(|w| fr(w.above).inverse().unwrap_or(Fr::zero())))?;
                outputs.push(region.assign_advice(self.acc, row, w.map(|w| fr(w.out)))?);
                for j in 0..limbs - 1 {
                    self.table_row(region, row + j, 0, w.map(|w| self.limb(((w.above + above_bound) >> (bits as usize * j)) & mask)))?;
                }
                self.table_row(region, row + limbs - 1, 0, w.map(|w| self.limb(w.rem)))?;
                self.table_row(region, row + limbs, 0, w.map(|w| self.limb(w.t + table.step_offset)))?;
            }
            Ok(outputs)
        })
    }
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
    /// The standard normal distribution's `Phi(x) = (1 + erf(x / sqrt 2)) / 2`, GELU's gate:
    /// `gelu(x) = x Phi(x)`.
    NormalCdf,
    /// `Phi`'s tanh form, `(1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2`, the gate of GELU's
    /// `approximate = "tanh"`.
    NormalCdfTanh,
    /// `ln(-u)` for `u` in `[-2, -1]` (sampled on `[-3, -1]`): the logarithm of a mantissa
    /// `m = -u` in `[1, 2]`, which a logarithm's range reduction leaves (`ln x = ln m + k ln 2`). Negated so that the table's
    /// forbidden side, above it, is `m < 1`: a value at or below 0 has no logarithm, and no
    /// witness.
    LnOfNegated,
    /// The arctangent read through softsign: `atan(u / (1 - |u|))` for `|u| < 1`, `±pi/2` from
    /// `|u| = 1` on, so that `atan(x)` is this at `u = x / (1 + |x|)`. Atan itself nears its
    /// limits too slowly for a table (`pi/2 - atan(x) > 1 / (x + 1)`: within half a step only
    /// past `2^(scale + 1)`); through softsign every input lies in `[-1, 1]`, where the slope is
    /// at most 2 and the limits are the ends' values.
    Atan,
    /// The sine on a period, `[-pi, pi]`, sampled on `[-4, 4)`: Sin and Cos reduce their inputs
    /// there (`x - 2 pi n`).
    Sin,
}

impl Function {
    pub const ALL: [Function; 10] = [
        Function::Sigmoid,
        Function::Tanh,
        Function::Exp,
        Function::Erf,
        Function::SoftplusTail,
        Function::NormalCdf,
        Function::NormalCdfTanh,
        Function::LnOfNegated,
        Function::Atan,
        Function::Sin,
    ];

    fn name(self) -> &'static str {
        match self {
            Function::Sigmoid => "Sigmoid",
            Function::Tanh => "Tanh",
            Function::Exp => "Exp",
            Function::Erf => "Erf",
            Function::SoftplusTail => "Softplus",
            Function::NormalCdf => "Gelu",
            Function::NormalCdfTanh => "Gelu (tanh)",
            Function::LnOfNegated => "Log",
            Function::Atan => "Atan",
            Function::Sin => "Sin",
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
    pub(super) fn tag(self) -> u64 {
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
            Function::NormalCdf => (1.0 + erf(x / std::f64::consts::SQRT_2)) / 2.0,
            // (1 + tanh(z)) / 2 = sigmoid(2z).
            Function::NormalCdfTanh => 1.0 / (1.0 + exp(-2.0 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
            Function::LnOfNegated => log_one_plus(-x - 1.0),
            Function::Atan if x.abs() >= 1.0 => std::f64::consts::FRAC_PI_2.copysign(x),
            Function::Atan => atan(x / (1.0 - x.abs())),
            Function::Sin => sin(x),
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
            // 1 - Phi(x) < e^(-x^2 / 2) / 2 < 2^-(bits + 1) for x > sqrt(2 bits ln 2).
            Function::NormalCdf => 2.0 * (2.0 * bits as f64 * ln2).sqrt().max(1.0),
            // A sigmoid of more than 1.59 x for x > 0: within Sigmoid's interval.
            Function::NormalCdfTanh => return Function::Sigmoid.interval_bits(bits),
            // `[-3, -1]`: the mantissas' interval `[-2, -1]` with room below it, so that
            // `m = 2` is sampled, not a limit.
            Function::LnOfNegated => return 1,
            // Softsign's range, [-1, 1): from 1 on the limit is the value at 1.
            Function::Atan => 2.0,
            // A period, `[-pi, pi]`, into which Sin and Cos reduce their inputs.
            Function::Sin => 8.0,
        };
        (0..).find(|b| (1u64 << b) as f64 >= length).expect("a power of two exceeds any length")
    }

    /// The fixed-point outputs below and above the interval; `None` where there is no limit
    /// (Exp), and inputs there are refused.
    fn limits(self, bits: u32) -> (i64, Option<i64>) {
        let one = 1i64 << bits;
        match self {
            Function::Sigmoid | Function::NormalCdf | Function::NormalCdfTanh => (0, Some(one)),
            Function::Tanh | Function::Erf => (-one, Some(one)),
            Function::SoftplusTail => (0, Some(0)),
            Function::Exp => (0, None),
            // Below the table is `m > 3 - 2^-bits`, which no mantissa is.
            Function::LnOfNegated => ((1.0986122886681098 * one as f64).round() as i64, None),
            Function::Atan => {
                let half_pi = (std::f64::consts::FRAC_PI_2 * one as f64).round() as i64;
                (-half_pi, Some(half_pi))
            }
            // No reduced input leaves `[-4, 4)`: none has a limit.
            Function::Sin => (0, None),
        }
    }
}

/// `sqrt(2 / pi)`, GELU's tanh form's factor.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

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

/// `sin(x)` for `|x| <= 4` from `+ - * /` alone (see [`exp`]): its Taylor series, whose terms
/// fall below 2^-60 by the 25th.
fn sin(x: f64) -> f64 {
    let (mut term, mut sum) = (x, 0.0);
    for k in 1..=25 {
        sum += term;
        term *= -x * x / ((2 * k) * (2 * k + 1)) as f64;
    }
    sum
}

/// `log(1 + y)` for `-1/2 <= y <= 2` from `+ - * /` alone (see [`exp`]): `2 atanh(z)`, `z = y / (2 +
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

/// `atan(x)` from `+ - * /` alone (see [`exp`]): `pi/2 - atan(1 / x)` above 1, `pi/4 + atan((x -
/// 1) / (x + 1))` above `tan(pi/8)`, and below that its series, whose terms shrink by at least
/// `tan(pi/8)^2 < 0.18`. Odd.
fn atan(x: f64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    const TAN_PI_8: f64 = 0.414_213_562_373_095_1;
    let a = if x < 0.0 { -x } else { x };
    let (outer, sign, y) = if a > 1.0 { (FRAC_PI_2, -1.0, 1.0 / a) } else { (0.0, 1.0, a) };
    let (inner, z) = if y > TAN_PI_8 { (FRAC_PI_4, (y - 1.0) / (y + 1.0)) } else { (0.0, y) };
    let (mut power, mut series) = (z, 0.0);
    for k in 0..40 {
        series += power / (2 * k + 1) as f64;
        power *= -z * z;
    }
    let magnitude = outer + sign * (inner + series);
    if x < 0.0 {
        -magnitude
    } else {
        magnitude
    }
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
    pub(super) function: Function,
    /// The function whose samples the table holds ([`Function::sampled`]), and how `function`
    /// reads them: `function(x) = sampled(in_factor * x)`, or `2 sampled(in_factor * x) - 1`
    /// where `doubled`.
    sampled: Function,
    in_factor: i64,
    doubled: bool,
    /// The fixed point of inputs, samples and outputs.
    scale: u32,
    /// The limb: an input's fine part and an interpolation step each fill one.
    bits: u32,
    grid: u32,
    step_bits: u32,
    start: i64,
    pub(super) samples: Vec<i64>,
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
    /// The function's output.
    pub out: i64,
    /// The position within the sample's step, in `2^-bits` of it.
    fine: i64,
    /// Of a sum at the products' scale, the part below `fine`, in `[0, 2^s)`.
    low: i64,
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
            (table.function, table.in_factor, table.doubled) = (function, 2, true);
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
            // `[-3, -1]` shifted up by one sample, as Exp's is: `m = 1` is in the table.
            Function::LnOfNegated => (1i64 << step_bits) - (3i64 << scale),
            Function::Sigmoid | Function::Tanh | Function::Erf | Function::SoftplusTail | Function::NormalCdf | Function::NormalCdfTanh | Function::Atan | Function::Sin => {
                -(1i64 << (interval + scale - 1))
            }
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
        Self { function, sampled: function, in_factor: 1, doubled: false, scale, bits, grid, step_bits, start, samples, below, above, step_offset }
    }

    /// Every output the lookup can give, `(least, greatest)`: an interpolation lies between its
    /// two samples, and beyond the table come the limits.
    pub fn outputs(&self) -> (i64, i64) {
        let ends = self.samples.iter().copied().chain([self.below]).chain(self.above);
        let (lo, hi) = ends.fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (self.output(lo), self.output(hi))
    }

    /// The function's output from the sampled function's.
    fn output(&self, sampled: i64) -> i64 {
        if self.doubled {
            2 * sampled - (1 << self.scale)
        } else {
            sampled
        }
    }

    /// Whether every interpolation step `t`, which lies between 0 and its slope, fits one limb
    /// after its offset: `t + step_offset` in `[0, 2^bits)`.
    fn steps_fit(&self) -> bool {
        let fits = |t: i64| (0..1 << self.bits).contains(&(t + self.step_offset));
        self.step_bits == 0 || samples_slopes(&self.samples).all(|d| fits(d) && fits(0))
    }

    /// The lookup's witness for input `x` (fixed point) in a circuit of `limbs` limbs.
    pub fn witness(&self, x: i64, limbs: usize) -> Result<FunctionWitness, String> {
        let position = (x as i128 * self.in_factor as i128 - self.start as i128) << (self.bits - self.step_bits);
        self.witness_at(position, 0, limbs, x as f64 / (1u64 << self.scale) as f64)
    }

    /// The witness for a sum `x` at the products' scale `2^-2s`, read to the nearest `2^-bits`
    /// of a sample's step (see the `function samples` gate): its position in units of that
    /// step, and `low`, the part below it at `2^-s` of one.
    pub fn witness_of_sum(&self, x: i64, limbs: usize) -> Result<FunctionWitness, String> {
        let s = self.scale;
        let scaled = ((x as i128 * self.in_factor as i128 - ((self.start as i128) << s)) << (self.bits - self.step_bits)) + (1 << (s - 1));
        let real = x as f64 / (1u64 << s) as f64 / (1u64 << s) as f64;
        self.witness_at(scaled.div_euclid(1 << s), scaled.rem_euclid(1 << s) as i64, limbs, real)
    }

    /// The witness at `position`, `fine + 2^bits (index + 2^grid above)`; `x` is the input in
    /// real units, for errors.
    fn witness_at(&self, position: i128, low: i64, limbs: usize, x: f64) -> Result<FunctionWitness, String> {
        let bits = self.bits;
        let real = |v: i64| v as f64 / (1u64 << self.scale) as f64;
        let above = position.div_euclid(1 << (bits + self.grid));
        let above_bound = 1i128 << (bits as usize * (limbs - 1) - 1);
        if above < -above_bound || above >= above_bound {
            return Err(format!("{} input {x} is outside the circuit's range", self.function.name()));
        }
        let index = (position >> bits).rem_euclid(1 << self.grid) as i64;
        let fine = position.rem_euclid(1 << bits) as i64;
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
                    "{} input {x} is at or above {}, the end of its lookup table ({})",
                    self.function.name(),
                    real(end),
                    match self.function {
                        Function::LnOfNegated => "a logarithm's mantissa is at least 1: its input was at or below 0",
                        _ => "softmax keeps Exp's inputs at or below 0",
                    }
                ));
            }
        };
        let out = self.output(looked_up);
        Ok(FunctionWitness { out, fine, low, index, sample, next_sample, slope_fine, above: above as i64, t, rem })
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

    /// The inputs `f` is checked on, `[-reach, reach)` at scale `2^-scale` but where it is
    /// defined: Exp's up to 0 (softmax's), the logarithm's mantissas `[-2, -1]`.
    fn domain(f: Function, scale: u32, reach: i64) -> std::ops::Range<i64> {
        match f {
            Function::Exp => -(reach << scale)..1,
            Function::LnOfNegated => -(2 << scale)..-(1 << scale) + 1,
            Function::Sin => {
                let pi = (std::f64::consts::PI * (1u64 << scale) as f64) as i64;
                -pi..pi + 1
            }
            _ => -(reach << scale)..reach << scale,
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
                    Function::NormalCdf => (1.0 + Function::Erf.eval(x as f64 / one / std::f64::consts::SQRT_2)) / 2.0,
                    Function::NormalCdfTanh => {
                        let v = x as f64 / one;
                        (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh()) / 2.0
                    }
                    Function::LnOfNegated => (-(x as f64) / one).ln(),
                    Function::Atan => {
                        let u = x as f64 / one;
                        if u.abs() >= 1.0 {
                            std::f64::consts::FRAC_PI_2.copysign(u)
                        } else {
                            (u / (1.0 - u.abs())).atan()
                        }
                    }
                    Function::Sin => (x as f64 / one).sin(),
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
                let worst = worst(table, f, bits, domain(f, bits, 12));
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
            assert_eq!(t.out, 2 * s.out - 4096, "{x}");
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
                let worst = worst(&table, f, scale, domain(f, scale, 20).step_by(step));
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

    /// The logarithm's mantissas `m` in `[1, 2]` are read as `-m`; above the table (a sample past
    /// `m = 1`) is what a value at or below 0 leaves, `m <= 0`: no witness there.
    #[test]
    fn the_logarithm_reads_mantissas_from_one_to_two() {
        let table = FunctionTable::new(Function::LnOfNegated, shape(8, 8)).unwrap();
        assert_eq!([table.witness(-256, 2).unwrap().out, table.witness(-512, 2).unwrap().out], [0, 177]);
        for m in [0, 5, -40] {
            let err = table.witness(-m, 2).unwrap_err();
            assert!(err.contains("its input was at or below 0"), "{err}");
        }
    }

    /// A sum at the products' scale reads the table as its rescaled value does where that value is
    /// exact, and between two such values lies between their outputs (the interpolation is
    /// monotone within a step): it is the same lookup at a finer input.
    #[test]
    fn a_sum_reads_the_table_as_its_rescaled_value() {
        for (scale, bits) in [(8, 8), (16, 11), (20, 12)] {
            for f in [Function::Sigmoid, Function::Tanh, Function::Exp] {
                let table = FunctionTable::new(f, shape(scale, bits)).unwrap();
                for x in domain(f, scale, 9).step_by(97) {
                    let exact = table.witness(x, 3).unwrap().out;
                    assert_eq!(table.witness_of_sum(x << scale, 3).unwrap().out, exact, "{f:?} at 2^-{scale}: {x}");
                    if x + 1 < domain(f, scale, 9).end {
                        let next = table.witness(x + 1, 3).unwrap().out;
                        let between = table.witness_of_sum((x << scale) + (1 << (scale - 1)) + 3, 3).unwrap().out;
                        assert!((exact.min(next)..=exact.max(next)).contains(&between), "{f:?} at 2^-{scale}: {x}: {between} not within {exact}, {next}");
                    }
                }
            }
        }
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
}
