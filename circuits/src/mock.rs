//! Checking a witness against the constraints row by row, naming every failure. The mock
//! prover and the honest prover's own checks both use [`check`].

use crate::layouter::{Circuit, Pass, Synthesis};
use crate::permutation::{Permutation, Position};
use crate::Error;
use ark_bn254::Fr;
use ark_ff::{UniformRand, Zero};
use rayon::prelude::*;
use std::collections::HashSet;
use std::fmt;
use zkinfer_verifier::{CircuitDescription, ColumnKind, Query};

/// One violated constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    Gate { gate: String, poly: usize, row: usize },
    Copy { left: String, right: String },
    PublicInput { cell: String, instance: String },
    Lookup { lookup: String, row: usize },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Gate { gate, poly, row } => write!(f, "gate '{gate}' (constraint {poly}) fails at row {row}"),
            Failure::Copy { left, right } => write!(f, "copy constraint fails: {left} != {right}"),
            Failure::PublicInput { cell, instance } => write!(f, "public input {instance} does not match {cell}"),
            Failure::Lookup { lookup, row } => write!(f, "lookup '{lookup}' fails at row {row}: input not in table"),
        }
    }
}

/// The values of all columns over all `2^k` rows (blinding rows included).
pub struct Columns<'a> {
    pub fixed: &'a [Vec<Fr>],
    pub advice: &'a [Vec<Fr>],
    pub instance: &'a [Vec<Fr>],
}

impl Columns<'_> {
    /// All rows of `column`.
    pub fn column(&self, column: zkinfer_verifier::Column) -> &[Fr] {
        match column.kind {
            ColumnKind::Fixed => &self.fixed[column.index],
            ColumnKind::Advice => &self.advice[column.index],
            ColumnKind::Instance => &self.instance[column.index],
        }
    }

    /// The cell `q` reads from `row`, wrapping around.
    pub fn get(&self, q: Query, row: usize) -> Fr {
        let col = self.column(q.column);
        let n = col.len() as i64;
        col[(row as i64 + q.rotation as i64).rem_euclid(n) as usize]
    }
}

/// Every gate failure on any row (the verifier checks gates everywhere, so a gate must be
/// switched off on the blinding rows), every lookup failure, and every copy failure: two cells
/// next to each other on a copy cycle (cells constrained equal, directly or through others)
/// whose values differ, so one wrong cell on a longer cycle is named twice.
pub fn check(description: &CircuitDescription, usable_rows: usize, columns: &Columns, permutation: &Permutation) -> Vec<Failure> {
    // Rows in parallel: an honest prover runs this before every proof. Failures keep row order.
    let mut failures: Vec<Failure> = (0..1usize << description.k)
        .into_par_iter()
        .flat_map_iter(|row| {
            let cell = move |q: Query| columns.get(q, row);
            description.gates.iter().flat_map(move |gate| {
                gate.polys.iter().enumerate().filter(move |(_, poly)| !poly.evaluate(&cell).is_zero()).map(move |(i, _)| Failure::Gate { gate: gate.name.clone(), poly: i, row })
            })
        })
        .collect();
    // Each cell against the next on its copy cycle; a pair that fails is named once.
    let value = |(i, r): Position| columns.column(permutation.columns()[i as usize])[r as usize];
    let mut broken: Vec<(Position, Position)> = permutation
        .next()
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, next)| {
            next.iter().enumerate().filter_map(move |(r, &b)| {
                let a = (i as u32, r as u32);
                (a != b && value(a) != value(b)).then_some((a.min(b), a.max(b)))
            })
        })
        .collect();
    broken.sort_unstable();
    broken.dedup();
    failures.extend(broken.into_iter().map(|(a, b)| {
        let (a, b) = (permutation.cell(a), permutation.cell(b));
        let (left, right) = (a.describe(), b.describe());
        match (a.column.kind, b.column.kind) {
            (ColumnKind::Instance, _) => Failure::PublicInput { cell: right, instance: left },
            (_, ColumnKind::Instance) => Failure::PublicInput { cell: left, instance: right },
            _ => Failure::Copy { left, right },
        }
    }));
    for lookup in &description.lookups {
        let tuple = |exprs: &[zkinfer_verifier::Expression], row: usize| -> Vec<Fr> { exprs.iter().map(|e| e.evaluate(&|q| columns.get(q, row))).collect() };
        let table: HashSet<Vec<Fr>> = (0..usable_rows).into_par_iter().map(|row| tuple(&lookup.table, row)).collect();
        let missing: Vec<Failure> = (0..usable_rows)
            .into_par_iter()
            .filter(|&row| !lookup.selector.evaluate(&|q| columns.get(q, row)).is_zero() && !table.contains(&tuple(&lookup.inputs, row)))
            .map(|row| Failure::Lookup { lookup: lookup.name.clone(), row })
            .collect();
        failures.extend(missing);
    }
    failures
}

/// Synthesizes a circuit with its witness and checks every constraint, without proving.
pub struct MockProver {
    pub description: CircuitDescription,
    synthesis: Synthesis,
    permutation: Permutation,
    instance: Vec<Vec<Fr>>,
}

impl MockProver {
    /// Uses the smallest k that fits when `k` is `None`.
    pub fn run<C: Circuit>(k: Option<u32>, circuit: &C, instances: Vec<Vec<Fr>>) -> Result<Self, Error> {
        let mut synthesis = Synthesis::run(circuit, Pass::Mock)?;
        if instances.len() != synthesis.cs.num_instance {
            return Err(Error::Synthesis(format!("{} instance columns given, the circuit has {}", instances.len(), synthesis.cs.num_instance)));
        }
        let instance_rows = instances.iter().map(Vec::len).max().unwrap_or(0);
        let k = k.unwrap_or_else(|| synthesis.min_k(instance_rows));
        synthesis.pad(k, instance_rows)?;
        let n = 1usize << k;
        let usable = n - synthesis.cs.reserved_rows();
        // Blinding rows hold random values, as in a real proof, so gates that reach into
        // them fail here too.
        let mut rng = rand::thread_rng();
        for col in synthesis.advice.iter_mut() {
            col[usable..].iter_mut().for_each(|v| *v = Fr::rand(&mut rng));
        }
        let instance = instances
            .into_iter()
            .map(|mut c| {
                c.resize(n, Fr::zero());
                c
            })
            .collect();
        Ok(Self { description: synthesis.cs.description(k), permutation: synthesis.permutation(k)?, synthesis, instance })
    }

    pub fn verify(&self) -> Result<(), Vec<Failure>> {
        let usable = (1usize << self.description.k) - self.synthesis.cs.reserved_rows();
        let columns = Columns { fixed: &self.synthesis.fixed, advice: &self.synthesis.advice, instance: &self.instance };
        let failures = check(&self.description, usable, &columns, &self.permutation);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }
}
