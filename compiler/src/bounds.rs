//! Sound bounds: the model's steps run on intervals, so that for every input within given
//! ranges each value the circuit range checks is known to stay within a magnitude. Compile
//! sizes the circuit's range from it, and then any input within the calibrated ranges proves
//! (docs/circuits.md, "Which inputs prove").

use crate::arith::{Arith, Coef, Dot, Wire};
use crate::Error;
use zkinfer_circuits::gadgets::{floor_sqrt, ElementOp, Function, FunctionTable, FunctionWitness, GatherTable, Shape};
use zkinfer_circuits::Value;

/// The integers `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub lo: i64,
    pub hi: i64,
}

impl Interval {
    fn magnitude(&self) -> i64 {
        self.lo.unsigned_abs().max(self.hi.unsigned_abs()).min(i64::MAX as u64) as i64
    }

    /// From wide bounds, refusing what leaves 64 bits (the evaluation would refuse it too).
    fn of(lo: i128, hi: i128, what: &str) -> Result<Self, Error> {
        match (i64::try_from(lo), i64::try_from(hi)) {
            (Ok(lo), Ok(hi)) => Ok(Interval { lo, hi }),
            _ => Err(Error::Range(format!("{what} may reach {}, beyond 64 bits", if lo.abs() > hi.abs() { lo } else { hi }))),
        }
    }

    /// `c * self` for a constant `c`.
    fn scaled(&self, c: i64) -> (i128, i128) {
        let (a, b) = (self.lo as i128 * c as i128, self.hi as i128 * c as i128);
        (a.min(b), a.max(b))
    }

    /// `self * other`: the extremes are at the corners.
    fn times(&self, other: &Interval) -> (i128, i128) {
        let corners = [self.lo as i128 * other.lo as i128, self.lo as i128 * other.hi as i128, self.hi as i128 * other.lo as i128, self.hi as i128 * other.hi as i128];
        (corners.into_iter().min().expect("four corners"), corners.into_iter().max().expect("four corners"))
    }
}

/// The interval of a wire in the analysis.
fn interval(w: &Wire) -> Interval {
    w.interval.expect("the bounds analysis gives every wire an interval")
}

pub fn wire(interval: Interval) -> Wire {
    Wire { value: Value::unknown(), cell: None, interval: Some(interval) }
}

/// Interval arithmetic over the steps of [`Arith`]; records the largest magnitude any range
/// check can meet, as [`crate::arith::Evaluate`] does for one input.
pub struct Bounds {
    pub shape: Shape,
    pub largest: i64,
    /// Per element step, in the order the model makes them: the largest magnitude its range
    /// check can meet.
    pub elements: Vec<i64>,
}

impl Bounds {
    pub fn new(shape: Shape) -> Self {
        Bounds { shape, largest: 0, elements: Vec::new() }
    }

    fn checked(&mut self, i: Interval) -> Interval {
        self.largest = self.largest.max(i.magnitude());
        i
    }
}

impl Arith for Bounds {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn dot(&mut self, products: Vec<Dot>) -> Result<Vec<Wire>, Error> {
        products
            .iter()
            .map(|p| {
                let bias = p.bias.value() as i128;
                let (lo, hi) = p.inputs.iter().zip(&p.weights).fold((bias, bias), |(lo, hi), (x, w)| {
                    let (a, b) = interval(x).scaled(Coef::value(w));
                    (lo + a, hi + b)
                });
                Interval::of(lo, hi, "a dot product").map(wire)
            })
            .collect()
    }

    fn element(&mut self, op: ElementOp, items: Vec<(Wire, Option<Wire>)>) -> Result<Vec<Wire>, Error> {
        let s = self.shape.scale_bits;
        let rescale = |v: i64| if op.rescale { (v as i128 + (1 << (s - 1))).div_euclid(1 << s) } else { v as i128 };
        let before = std::mem::replace(&mut self.largest, 0);
        let out = items
            .iter()
            .map(|(x, sub)| {
                let (x, sub) = (interval(x), sub.as_ref().map_or(Interval { lo: 0, hi: 0 }, interval));
                let d = Interval::of(x.lo as i128 - sub.hi as i128, x.hi as i128 - sub.lo as i128, "a difference")?;
                let y = self.checked(Interval::of(rescale(d.lo), rescale(d.hi), "a rescaled value")?);
                let out = if op.relu && !op.rescale {
                    // `sub + relu(x - sub)` is `max(x, sub)`, which keeps to its inputs' hull.
                    Interval { lo: x.lo.max(sub.lo), hi: x.hi.max(sub.hi) }
                } else {
                    let y = if op.relu { Interval { lo: y.lo.max(0), hi: y.hi.max(0) } } else { y };
                    Interval::of(y.lo as i128 + sub.lo as i128, y.hi as i128 + sub.hi as i128, "an element's output")?
                };
                Ok(wire(out))
            })
            .collect();
        self.elements.push(self.largest);
        self.largest = self.largest.max(before);
        out
    }

    fn linear(&mut self, items: Vec<(Wire, i64, Wire, i64)>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|(a, c0, b, c1)| {
                let ((a0, a1), (b0, b1)) = (interval(a).scaled(*c0), interval(b).scaled(*c1));
                Interval::of(a0 + b0, a1 + b1, "a sum").map(wire)
            })
            .collect()
    }

    fn function(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let table = FunctionTable::new(f, self.shape).map_err(Error::Range)?;
        let limbs = self.shape.limbs;
        lookups(&table, items, |x| table.witness(x, limbs))
    }

    fn function_of_sums(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let table = FunctionTable::new(f, self.shape).map_err(Error::Range)?;
        let limbs = self.shape.limbs;
        lookups(&table, items, |x| table.witness_of_sum(x, limbs))
    }

    fn products(&mut self, items: Vec<Vec<(Wire, Wire)>>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|pairs| {
                let (lo, hi) = pairs.iter().fold((0i128, 0i128), |(lo, hi), (a, b)| {
                    let (p, q) = interval(a).times(&interval(b));
                    (lo + p, hi + q)
                });
                Interval::of(lo, hi, "a sum of products").map(wire)
            })
            .collect()
    }

    fn divide(&mut self, items: Vec<(Wire, Wire)>, within: Option<i64>) -> Result<Vec<Wire>, Error> {
        let s = self.shape.scale_bits;
        // `round(n 2^s / d)` grows with n and, for n of one sign, shrinks with d: the
        // extremes are at the corners.
        let quotient = |n: i64, d: i64| ((n as i128) << (s + 1)).saturating_add(d as i128).div_euclid(2 * d as i128);
        items
            .iter()
            .map(|(n, d)| {
                let (n, d) = (interval(n), interval(d));
                if d.lo < 1 {
                    return Err(Error::Range(format!("a divisor may be {}, below 1, for inputs within the ranges", d.lo)));
                }
                let corners = [quotient(n.lo, d.lo), quotient(n.lo, d.hi), quotient(n.hi, d.lo), quotient(n.hi, d.hi)];
                let (lo, hi) = (*corners.iter().min().expect("corners"), *corners.iter().max().expect("corners"));
                let (lo, hi) = within.map_or((lo, hi), |w| (lo.max(-w as i128), hi.min(w as i128).max(lo.max(-w as i128))));
                let q = Interval::of(lo, hi, "a quotient")?;
                self.largest = self.largest.max(d.hi);
                Ok(wire(self.checked(q)))
            })
            .collect()
    }

    fn sqrt(&mut self, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let s = self.shape.scale_bits;
        let root = |v: i64| floor_sqrt(v, s).ok_or_else(|| Error::Range(format!("a square root's input may be {v}, below 0, for inputs within the ranges")));
        items
            .iter()
            .map(|v| {
                let v = interval(v);
                let r = Interval { lo: root(v.lo)?, hi: root(v.hi)? };
                Ok(wire(self.checked(r)))
            })
            .collect()
    }

    fn gather(&mut self, table: &GatherTable, items: Vec<(Wire, usize)>) -> Result<Vec<Wire>, Error> {
        // Any entry of the column: the index is whatever the input makes it.
        let column = |j: usize| table.values.iter().skip(j).step_by(table.row_len);
        items
            .iter()
            .map(|(_, j)| {
                let (lo, hi) = column(*j).fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                self.largest = self.largest.max(lo.abs()).max(hi.abs());
                Ok(wire(Interval { lo, hi }))
            })
            .collect()
    }

    fn constant(&mut self, value: i64) -> Result<Wire, Error> {
        Ok(wire(Interval { lo: value, hi: value }))
    }

    fn assume(&mut self, items: Vec<Wire>, lo: i64, hi: i64) -> Result<Vec<Wire>, Error> {
        Ok(items
            .iter()
            .map(|w| {
                let i = interval(w);
                wire(Interval { lo: i.lo.max(lo), hi: i.hi.min(hi).max(i.lo.max(lo)) })
            })
            .collect())
    }
}

/// The outputs of `table`'s lookups of `items`, each `witness`ed at its interval's ends: the
/// part beyond the table is range checked, and its check grows with the input, so the ends
/// decide.
fn lookups(table: &FunctionTable, items: Vec<Wire>, witness: impl Fn(i64) -> Result<FunctionWitness, String>) -> Result<Vec<Wire>, Error> {
    let (lo, hi) = table.outputs();
    items
        .iter()
        .map(|x| {
            let x = interval(x);
            for end in [x.lo, x.hi] {
                witness(end).map_err(Error::Range)?;
            }
            Ok(wire(Interval { lo, hi }))
        })
        .collect()
}
