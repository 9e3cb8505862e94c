//! The polynomial identities of the protocol, combined with powers of the challenge `y`.
//! Prover (at every point of the extended coset) and verifier (at the point `x`) both call
//! [`Constraints::combine`], so they cannot disagree on the list or its order.

use crate::description::{CircuitDescription, Layout};
use crate::expression::{Expression, Query, Value};
use ark_bn254::Fr;
use ark_ff::{One, Zero};

/// The challenges that the constraint identities use: field elements, or (when the prover
/// compiles the identities) placeholders for them.
#[derive(Clone, Copy, Debug)]
pub struct Challenges<T = Fr> {
    /// Compresses lookup tuples into one value.
    pub theta: T,
    /// Permutation argument: multiplies the column identities (`delta^i X`) and the `sigma`s.
    pub beta: T,
    /// Permutation argument: added to each cell's value.
    pub gamma: T,
    /// LogUp shift.
    pub kappa: T,
    /// Combines all identities into one.
    pub y: T,
}

/// Values of every polynomial the constraints read, at one point.
pub trait PointValues<T = Fr> {
    /// The point itself (the identity permutation is `delta^i * X`).
    fn x(&self) -> T;
    /// The column that `query` names, at its rotation.
    fn cell(&self, query: Query) -> T;
    /// The permutation polynomial `sigma_i` of the `i`-th column in the permutation.
    fn sigma(&self, i: usize) -> T;
    /// The `j`-th grand product of the permutation argument, at `rotation` rows from the point.
    fn product(&self, j: usize, rotation: i32) -> T;
    /// The multiplicities of the `l`-th lookup's table rows.
    fn multiplicity(&self, l: usize) -> T;
    /// The `l`-th lookup's LogUp running sum, at `rotation` rows from the point.
    fn running_sum(&self, l: usize, rotation: i32) -> T;
    /// `L_0`, the Lagrange polynomial of the first row.
    fn l_first(&self) -> T;
    /// `L_{usable_rows}`, the Lagrange polynomial of the row after the last usable one.
    fn l_last(&self) -> T;
    /// `1 - L_{usable_rows} - sum of L_i over the blinding rows`: 1 on the rows the identities
    /// hold on.
    fn l_active(&self) -> T;
    /// Called as each part of the identities begins; an evaluator that writes code (the
    /// Solidity verifier) labels it.
    fn begin(&self, _part: Part) {}
}

/// The parts of [`Constraints::combine`], in order.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// A gate, by name.
    Gate(&'a str),
    /// The permutation argument (copy constraints).
    Permutation,
    /// A lookup, by name.
    Lookup(&'a str),
}

/// The constraint identities of one circuit under one set of challenges, ready to be combined
/// at a point.
pub struct Constraints<'a, T = Fr> {
    description: &'a CircuitDescription,
    layout: &'a Layout,
    challenges: Challenges<T>,
    shifts: Vec<Fr>,
}

impl<'a, T: Value> Constraints<'a, T> {
    /// The identities of `description`, laid out as `layout`, under `challenges`.
    pub fn new(description: &'a CircuitDescription, layout: &'a Layout, challenges: Challenges<T>) -> Self {
        let shifts = (0..description.permutation.len()).map(Layout::permutation_shift).collect();
        Self { description, layout, challenges, shifts }
    }

    /// `sum_i y^(m-1-i) c_i` over the identities c_0..c_{m-1} in the documented order:
    /// gates, then the permutation argument, then each lookup.
    pub fn combine(&self, v: &impl PointValues<T>) -> T {
        let Challenges { theta, beta, gamma, kappa, y } = self.challenges.clone();
        let one = || T::constant(Fr::one());
        let mut acc = T::constant(Fr::zero());
        let mut push = |c: T| acc = acc.clone() * y.clone() + c;
        let cell = |q: Query| v.cell(q);

        for gate in &self.description.gates {
            v.begin(Part::Gate(&gate.name));
            for poly in &gate.polys {
                push(poly.evaluate(&cell));
            }
        }

        let (l_first, l_last, l_active) = (v.l_first(), v.l_last(), v.l_active());
        let products = self.layout.num_products;
        if products > 0 {
            v.begin(Part::Permutation);
            let last = self.layout.usable_rows as i32;
            push(l_first.clone() * (one() - v.product(0, 0)));
            let z_end = v.product(products - 1, 0);
            push(l_last.clone() * (z_end.clone() * z_end.clone() - z_end));
            for j in 1..products {
                push(l_first.clone() * (v.product(j, 0) - v.product(j - 1, last)));
            }
            // beta x and a + gamma are each computed once, for every evaluator: the Solidity
            // verifier pays gas per operation.
            let beta_x = beta.clone() * v.x();
            let columns = &self.description.permutation;
            for j in 0..products {
                let (mut left, mut right) = (v.product(j, 1), v.product(j, 0));
                for (i, column) in columns.iter().enumerate().skip(j * self.layout.chunk).take(self.layout.chunk) {
                    let a = v.cell(Query { column: *column, rotation: 0 }) + gamma.clone();
                    left = left * (a.clone() + beta.clone() * v.sigma(i));
                    right = right * (a + beta_x.clone() * T::constant(self.shifts[i]));
                }
                push(l_active.clone() * (left - right));
            }
        }

        let compress = |exprs: &[Expression]| exprs.iter().fold(T::constant(Fr::zero()), |acc, e| acc * theta.clone() + e.evaluate(&cell));
        for (l, lookup) in self.description.lookups.iter().enumerate() {
            v.begin(Part::Lookup(&lookup.name));
            let phi = v.running_sum(l, 0);
            push(l_first.clone() * phi.clone());
            push(l_last.clone() * phi.clone());
            let f = compress(&lookup.inputs) + kappa.clone();
            let t = compress(&lookup.table) + kappa.clone();
            let q = lookup.selector.evaluate(&cell);
            push(l_active.clone() * ((v.running_sum(l, 1) - phi) * f.clone() * t.clone() - v.multiplicity(l) * f + q * t));
        }
        acc
    }
}
