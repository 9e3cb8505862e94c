//! The polynomial identities of the protocol, combined with powers of the challenge `y`.
//! Prover (at every point of the extended coset) and verifier (at the point `x`) both call
//! [`Constraints::combine`], so they cannot disagree on the list or its order.

use crate::description::{CircuitDescription, Layout};
use crate::expression::{Expression, Query};
use ark_bn254::Fr;
use ark_ff::{Field, One};

/// The challenges that the constraint identities use.
#[derive(Clone, Copy, Debug)]
pub struct Challenges {
    /// Compresses lookup tuples into one value.
    pub theta: Fr,
    /// Permutation argument.
    pub beta: Fr,
    pub gamma: Fr,
    /// LogUp shift.
    pub kappa: Fr,
    /// Combines all identities into one.
    pub y: Fr,
}

/// Values of every polynomial the constraints read, at one point.
pub trait PointValues {
    /// The point itself (the identity permutation is `delta^i * X`).
    fn x(&self) -> Fr;
    fn cell(&self, query: Query) -> Fr;
    fn sigma(&self, i: usize) -> Fr;
    fn product(&self, j: usize, rotation: i32) -> Fr;
    fn multiplicity(&self, l: usize) -> Fr;
    fn running_sum(&self, l: usize, rotation: i32) -> Fr;
    /// `L_0`, `L_{usable_rows}`, and `1 - L_{usable_rows} - sum of L_i over the blinding rows`.
    fn l_first(&self) -> Fr;
    fn l_last(&self) -> Fr;
    fn l_active(&self) -> Fr;
}

pub struct Constraints<'a> {
    description: &'a CircuitDescription,
    layout: &'a Layout,
    challenges: Challenges,
    shifts: Vec<Fr>,
}

impl<'a> Constraints<'a> {
    pub fn new(description: &'a CircuitDescription, layout: &'a Layout, challenges: Challenges) -> Self {
        let shifts = (0..description.permutation.len()).map(Layout::permutation_shift).collect();
        Self { description, layout, challenges, shifts }
    }

    /// `sum_i y^(m-1-i) c_i` over the identities c_0..c_{m-1} in the documented order:
    /// gates, then the permutation argument, then each lookup.
    pub fn combine(&self, v: &impl PointValues) -> Fr {
        let Challenges { theta, beta, gamma, kappa, y } = self.challenges;
        let mut acc = Fr::from(0u64);
        let mut push = |c: Fr| acc = acc * y + c;
        let cell = |q: Query| v.cell(q);

        for gate in &self.description.gates {
            for poly in &gate.polys {
                push(poly.evaluate(&cell));
            }
        }

        let (l_first, l_last, l_active) = (v.l_first(), v.l_last(), v.l_active());
        let products = self.layout.num_products;
        if products > 0 {
            let last = self.layout.usable_rows as i32;
            push(l_first * (Fr::one() - v.product(0, 0)));
            let z_end = v.product(products - 1, 0);
            push(l_last * (z_end.square() - z_end));
            for j in 1..products {
                push(l_first * (v.product(j, 0) - v.product(j - 1, last)));
            }
            let x = v.x();
            let columns = &self.description.permutation;
            for j in 0..products {
                let (mut left, mut right) = (v.product(j, 1), v.product(j, 0));
                for (i, column) in columns.iter().enumerate().skip(j * self.layout.chunk).take(self.layout.chunk) {
                    let a = v.cell(Query { column: *column, rotation: 0 });
                    left *= a + beta * v.sigma(i) + gamma;
                    right *= a + beta * self.shifts[i] * x + gamma;
                }
                push(l_active * (left - right));
            }
        }

        let compress = |exprs: &[Expression]| exprs.iter().fold(Fr::from(0u64), |acc, e| acc * theta + e.evaluate(&cell));
        for (l, lookup) in self.description.lookups.iter().enumerate() {
            let phi = v.running_sum(l, 0);
            push(l_first * phi);
            push(l_last * phi);
            let f = compress(&lookup.inputs) + kappa;
            let t = compress(&lookup.table) + kappa;
            let q = lookup.selector.evaluate(&cell);
            push(l_active * ((v.running_sum(l, 1) - phi) * f * t - v.multiplicity(l) * f + q * t));
        }
        acc
    }
}
