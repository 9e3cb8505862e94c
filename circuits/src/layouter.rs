//! Synthesis: a circuit lays out regions row after row, fills tables and records copy
//! constraints. One layout serves key generation, proving and the mock prover; each pass
//! records what its user needs.

use crate::cs::{Advice, Cell, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
use crate::permutation::Permutation;
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use rayon::prelude::*;
use std::collections::HashSet;
use zkinfer_verifier::{ColumnKind, PublicTensor};

/// A circuit: it configures columns and constraints, then lays out its cells.
pub trait Circuit {
    type Config;
    fn configure(&self, cs: &mut ConstraintSystem) -> Self::Config;
    fn synthesize(&self, config: &Self::Config, layouter: &mut Layouter) -> Result<(), Error>;
    /// The named tensors that fill instance column 0 in order, for the verifying key's
    /// statement; none for a circuit whose public values are not a model's tensors.
    fn public_tensors(&self) -> Vec<PublicTensor> {
        Vec::new()
    }
}

/// An advice cell with the value assigned to it.
#[derive(Clone, Copy, Debug)]
pub struct AssignedCell {
    pub cell: Cell,
    pub value: Value<Fr>,
}

/// What a synthesis pass records. Key generation needs the fixed columns and the copy
/// constraints; a proof needs only the advice values, its key holds the rest
/// ([`Synthesis::witness`] compares the fixed values with the key's as they are assigned); the
/// mock prover, which has no key, needs all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Key,
    Witness,
    Mock,
}

impl Pass {
    fn records_key(self) -> bool {
        self != Pass::Witness
    }

    fn records_witness(self) -> bool {
        self != Pass::Key
    }
}

/// What synthesis produced: the constraint system and what the pass records. Columns hold
/// only the rows used; [`Synthesis::rows`] is the height of the tallest.
#[derive(Clone, Debug)]
pub struct Synthesis {
    pub cs: ConstraintSystem,
    /// Empty columns in a witness pass.
    pub fixed: Vec<Vec<Fr>>,
    /// Empty columns in a key pass.
    pub advice: Vec<Vec<Fr>>,
    /// Empty in a witness pass.
    pub copies: Vec<(Cell, Cell)>,
    pub rows: usize,
    pub pass: Pass,
}

impl Synthesis {
    /// Lays out `circuit`; a pass that records the witness needs every advice value known.
    pub fn run<C: Circuit>(circuit: &C, pass: Pass) -> Result<Self, Error> {
        Self::lay_out(circuit, pass, None)
    }

    /// The witness pass of a proof: fails on the first fixed cell whose value is not the one
    /// in `key_fixed`, the proving key's fixed columns (another circuit of the same shape).
    pub fn witness<C: Circuit>(circuit: &C, key_fixed: &[Vec<Fr>]) -> Result<Self, Error> {
        let synthesis = Self::lay_out(circuit, Pass::Witness, Some(key_fixed))?;
        // Past the circuit's rows nothing is assigned, so the key's circuit must hold 0 there too.
        for (i, column) in key_fixed.iter().enumerate() {
            if let Some(r) = column.iter().skip(synthesis.rows).position(|v| !v.is_zero()) {
                return Err(key_differs(Cell { column: Fixed(i).column(), row: synthesis.rows + r }));
            }
        }
        Ok(synthesis)
    }

    fn lay_out<C: Circuit>(circuit: &C, pass: Pass, key_fixed: Option<&[Vec<Fr>]>) -> Result<Self, Error> {
        let mut cs = ConstraintSystem::default();
        let config = circuit.configure(&mut cs);
        let mut layouter = Layouter {
            synthesis: Synthesis { fixed: vec![Vec::new(); cs.num_fixed], advice: vec![Vec::new(); cs.num_advice], copies: Vec::new(), rows: 0, pass, cs },
            next_region_row: 0,
            table_columns: HashSet::new(),
            key_fixed,
        };
        circuit.synthesize(&config, &mut layouter)?;
        Ok(layouter.synthesis)
    }

    /// The smallest k whose usable rows hold the circuit and its public inputs.
    pub fn min_k(&self, instance_rows: usize) -> u32 {
        let needed = self.rows.max(instance_rows).max(1) + self.cs.reserved_rows();
        needed.next_power_of_two().trailing_zeros().max(2)
    }

    /// Pads every recorded column to `2^k` rows, checking that the circuit fits below the
    /// reserved rows.
    pub fn pad(&mut self, k: u32, instance_rows: usize) -> Result<(), Error> {
        let n = 1usize << k;
        let usable = n.saturating_sub(self.cs.reserved_rows());
        let needed = self.rows.max(instance_rows);
        if needed > usable {
            return Err(Error::NotEnoughRows { needed, usable, k, min_k: self.min_k(instance_rows) });
        }
        let fixed = if self.pass.records_key() { &mut self.fixed[..] } else { &mut [] };
        let advice = if self.pass.records_witness() { &mut self.advice[..] } else { &mut [] };
        for column in fixed.iter_mut().chain(advice.iter_mut()) {
            column.resize(n, Fr::zero());
        }
        Ok(())
    }

    /// The copy constraints as a permutation over `2^k` rows. A witness pass records none.
    pub fn permutation(&self, k: u32) -> Result<Permutation, Error> {
        if self.pass == Pass::Witness {
            return Err(Error::Synthesis("a witness pass records no copy constraints: take the permutation from the key".into()));
        }
        let n = 1usize << k;
        Permutation::new(&self.cs.permutation, &self.copies, n, n.saturating_sub(self.cs.reserved_rows()))
    }
}

pub struct Layouter<'k> {
    synthesis: Synthesis,
    next_region_row: usize,
    table_columns: HashSet<TableColumn>,
    key_fixed: Option<&'k [Vec<Fr>]>,
}

impl Layouter<'_> {
    /// Lays out a region below the previous one; `f` assigns cells at offsets within it.
    pub fn assign_region<R>(&mut self, name: &str, f: impl FnOnce(&mut Region) -> Result<R, Error>) -> Result<R, Error> {
        let start = self.next_region_row;
        let mut region = Region::new(&self.synthesis.cs, self.synthesis.pass, self.key_fixed, start, name);
        let out = f(&mut region)?;
        let Region { height, logs, .. } = region;
        if let Some(cell) = logs.iter().find_map(|log| log.differs) {
            return Err(key_differs(cell));
        }
        let s = &mut self.synthesis;
        for log in logs {
            for (column, row, v) in log.advice {
                set(&mut s.advice[column as usize], row as usize, v);
            }
            for (column, row, v) in log.fixed {
                set(&mut s.fixed[column as usize], row as usize, v);
            }
            s.copies.extend(log.copies);
        }
        s.rows = s.rows.max(start + height);
        self.next_region_row = start + height;
        Ok(out)
    }

    /// Fills table columns from row 0. Each table column is filled by one call only.
    pub fn assign_table(&mut self, name: &str, columns: &[TableColumn], rows: &[Vec<Fr>]) -> Result<(), Error> {
        for c in columns {
            if !self.table_columns.insert(*c) {
                return Err(Error::Synthesis(format!("table '{name}': a table column is filled twice")));
            }
        }
        let s = &mut self.synthesis;
        for (r, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(Error::Synthesis(format!("table '{name}': row {r} has {} values for {} columns", row.len(), columns.len())));
            }
            for (c, v) in columns.iter().zip(row) {
                if s.pass.records_key() {
                    set(&mut s.fixed[c.0 .0], r, *v);
                } else if self.key_fixed.is_some_and(|k| k.get(c.0 .0).and_then(|c| c.get(r)) != Some(v)) {
                    return Err(key_differs(Cell { column: c.0.column(), row: r }));
                }
            }
        }
        s.rows = s.rows.max(rows.len());
        Ok(())
    }

    /// Constrains `cell` to equal public input `row` of `column`.
    pub fn constrain_instance(&mut self, cell: Cell, column: Instance, row: usize) -> Result<(), Error> {
        let s = &mut self.synthesis;
        if s.pass.records_key() {
            let b = Cell { column: column.column(), row };
            check_equality(&s.cs, [cell, b])?;
            s.copies.push((cell, b));
        }
        Ok(())
    }
}

fn key_differs(cell: Cell) -> Error {
    Error::Synthesis(format!("the circuit is not the one the proving key was made for: its {} differs", cell.describe()))
}

fn set(column: &mut Vec<Fr>, row: usize, v: Fr) {
    if column.len() <= row {
        column.resize(row + 1, Fr::zero());
    }
    column[row] = v;
}

fn check_equality(cs: &ConstraintSystem, cells: [Cell; 2]) -> Result<(), Error> {
    for c in cells {
        if !cs.permutation.contains(&c.column) {
            return Err(Error::Synthesis(format!("{:?} column {} is not enabled for equality", c.column.kind, c.column.index)));
        }
    }
    Ok(())
}

/// What a region assigned, in order, applied to the columns when the region ends: blocks of
/// a region filled in parallel each keep their own.
#[derive(Default)]
struct Log {
    /// (column, row, value); rows are below 2^26.
    advice: Vec<(u32, u32, Fr)>,
    fixed: Vec<(u32, u32, Fr)>,
    copies: Vec<(Cell, Cell)>,
    /// In a witness pass, the first fixed cell whose value is not the key's.
    differs: Option<Cell>,
}

pub struct Region<'a> {
    cs: &'a ConstraintSystem,
    pass: Pass,
    key_fixed: Option<&'a [Vec<Fr>]>,
    /// The first row of the named region (of the region a block belongs to), for messages.
    origin: usize,
    start: usize,
    height: usize,
    name: &'a str,
    logs: Vec<Log>,
}

impl<'a> Region<'a> {
    fn new(cs: &'a ConstraintSystem, pass: Pass, key_fixed: Option<&'a [Vec<Fr>]>, start: usize, name: &'a str) -> Self {
        Region { cs, pass, key_fixed, origin: start, start, height: 0, name, logs: vec![Log::default()] }
    }

    fn row(&mut self, offset: usize) -> usize {
        self.height = self.height.max(offset + 1);
        self.start + offset
    }

    fn log(&mut self) -> &mut Log {
        self.logs.last_mut().expect("a region always has a log to write to")
    }

    pub fn assign_advice(&mut self, column: Advice, offset: usize, value: Value<Fr>) -> Result<AssignedCell, Error> {
        let row = self.row(offset);
        if self.pass.records_witness() {
            let v = value.into_option().ok_or_else(|| {
                let offset = row - self.origin;
                Error::Synthesis(format!("region '{}': advice column {} offset {offset} has no witness value", self.name, column.0))
            })?;
            self.log().advice.push((column.0 as u32, row as u32, v));
        }
        Ok(AssignedCell { cell: Cell { column: column.column(), row }, value })
    }

    pub fn assign_fixed(&mut self, column: Fixed, offset: usize, value: Fr) -> Cell {
        let row = self.row(offset);
        let cell = Cell { column: column.column(), row };
        if self.pass.records_key() {
            self.log().fixed.push((column.0 as u32, row as u32, value));
        } else if self.key_fixed.is_some_and(|k| k.get(column.0).and_then(|c| c.get(row)) != Some(&value)) {
            let log = self.log();
            log.differs = log.differs.or(Some(cell));
        }
        cell
    }

    pub fn enable_selector(&mut self, selector: Selector, offset: usize) {
        self.assign_fixed(selector.0, offset, Fr::one());
    }

    pub fn constrain_equal(&mut self, a: Cell, b: Cell) -> Result<(), Error> {
        if self.pass.records_key() {
            check_equality(self.cs, [a, b])?;
            self.log().copies.push((a, b));
        }
        Ok(())
    }

    /// Assigns `cell`'s value to `column` at `offset` and constrains the two equal.
    pub fn copy_advice(&mut self, cell: &AssignedCell, column: Advice, offset: usize) -> Result<AssignedCell, Error> {
        let copy = self.assign_advice(column, offset, cell.value)?;
        self.constrain_equal(cell.cell, copy.cell)?;
        Ok(copy)
    }

    /// Fills blocks of rows in parallel: block `i` is a region of its own that starts at
    /// `offset` plus the heights of the blocks before it (it may assign past its height, into
    /// rows the next block leaves free). What they assign lands as if `f` had run on the
    /// blocks one after another.
    pub fn blocks<T, F>(&mut self, offset: usize, heights: &[usize], f: F) -> Result<Vec<T>, Error>
    where
        T: Send,
        F: Fn(usize, &mut Region) -> Result<T, Error> + Sync,
    {
        let offsets: Vec<usize> = heights.iter().scan(offset, |next, h| Some(std::mem::replace(next, *next + h))).collect();
        let (cs, pass, key_fixed, origin, start, name) = (self.cs, self.pass, self.key_fixed, self.origin, self.start, self.name);
        let done: Vec<Result<(T, Region), Error>> = offsets
            .into_par_iter()
            .enumerate()
            .map(|(i, offset)| {
                let mut block = Region { origin, ..Region::new(cs, pass, key_fixed, start + offset, name) };
                f(i, &mut block).map(|out| (out, block))
            })
            .collect();
        let mut outs = Vec::with_capacity(done.len());
        for result in done {
            let (out, block) = result?;
            self.height = self.height.max(block.start - self.start + block.height);
            self.logs.extend(block.logs);
            outs.push(out);
        }
        self.logs.push(Log::default());
        Ok(outs)
    }
}

impl Cell {
    pub(crate) fn describe(&self) -> String {
        let kind = match self.column.kind {
            ColumnKind::Advice => "advice",
            ColumnKind::Fixed => "fixed",
            ColumnKind::Instance => "instance",
        };
        format!("{kind}[{}] row {}", self.column.index, self.row)
    }
}
