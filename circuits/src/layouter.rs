//! Synthesis: a circuit lays out regions row after row, fills tables and records copy
//! constraints. The same pass serves key generation (witness unknown) and proving.

use crate::cs::{Advice, ConstraintSystem, Fixed, Instance, Selector, TableColumn};
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use std::collections::HashSet;
use zkinfer_verifier::{Column, ColumnKind};

/// A circuit: it configures columns and constraints, then lays out its cells.
pub trait Circuit {
    type Config;
    fn configure(&self, cs: &mut ConstraintSystem) -> Self::Config;
    fn synthesize(&self, config: &Self::Config, layouter: &mut Layouter) -> Result<(), Error>;
}

/// A cell in absolute coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub column: Column,
    pub row: usize,
}

/// An advice cell with the value assigned to it.
#[derive(Clone, Copy, Debug)]
pub struct AssignedCell {
    pub cell: Cell,
    pub value: Value<Fr>,
}

/// What synthesis produced: the constraint system and every assigned value. Columns hold
/// only the rows used; [`Synthesis::rows`] is the height of the tallest.
#[derive(Clone, Debug)]
pub struct Synthesis {
    pub cs: ConstraintSystem,
    pub fixed: Vec<Vec<Fr>>,
    /// Empty columns when synthesized without a witness.
    pub advice: Vec<Vec<Fr>>,
    pub copies: Vec<(Cell, Cell)>,
    pub rows: usize,
    pub with_witness: bool,
}

impl Synthesis {
    /// Lays out `circuit`; with `with_witness`, every advice value must be known.
    pub fn run<C: Circuit>(circuit: &C, with_witness: bool) -> Result<Self, Error> {
        let mut cs = ConstraintSystem::default();
        let config = circuit.configure(&mut cs);
        let mut layouter = Layouter {
            synthesis: Synthesis {
                fixed: vec![Vec::new(); cs.num_fixed],
                advice: vec![Vec::new(); cs.num_advice],
                copies: Vec::new(),
                rows: 0,
                with_witness,
                cs,
            },
            next_region_row: 0,
            table_columns: HashSet::new(),
        };
        circuit.synthesize(&config, &mut layouter)?;
        Ok(layouter.synthesis)
    }

    /// The smallest k whose usable rows hold the circuit and its public inputs.
    pub fn min_k(&self, instance_rows: usize) -> u32 {
        let needed = self.rows.max(instance_rows).max(1) + self.cs.reserved_rows();
        needed.next_power_of_two().trailing_zeros().max(2)
    }

    /// Pads every column to `2^k` rows, checking that the circuit fits below the reserved rows.
    pub fn pad(&mut self, k: u32, instance_rows: usize) -> Result<(), Error> {
        let n = 1usize << k;
        let usable = n.saturating_sub(self.cs.reserved_rows());
        let needed = self.rows.max(instance_rows);
        if needed > usable {
            return Err(Error::NotEnoughRows { needed, usable, k, min_k: self.min_k(instance_rows) });
        }
        let advice = if self.with_witness { &mut self.advice[..] } else { &mut [] };
        for column in self.fixed.iter_mut().chain(advice.iter_mut()) {
            column.resize(n, Fr::zero());
        }
        Ok(())
    }
}

pub struct Layouter {
    synthesis: Synthesis,
    next_region_row: usize,
    table_columns: HashSet<TableColumn>,
}

impl Layouter {
    /// Lays out a region below the previous one; `f` assigns cells at offsets within it.
    pub fn assign_region<R>(&mut self, name: &str, f: impl FnOnce(&mut Region) -> Result<R, Error>) -> Result<R, Error> {
        let start = self.next_region_row;
        let mut region = Region { layouter: self, start, height: 0, name };
        let out = f(&mut region)?;
        let end = start + region.height;
        self.next_region_row = end;
        Ok(out)
    }

    /// Fills table columns from row 0. Each table column is filled by one call only.
    pub fn assign_table(&mut self, name: &str, columns: &[TableColumn], rows: &[Vec<Fr>]) -> Result<(), Error> {
        for c in columns {
            if !self.table_columns.insert(*c) {
                return Err(Error::Synthesis(format!("table '{name}': a table column is filled twice")));
            }
        }
        for (r, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(Error::Synthesis(format!("table '{name}': row {r} has {} values for {} columns", row.len(), columns.len())));
            }
            for (c, v) in columns.iter().zip(row) {
                self.set_fixed(c.0, r, *v);
            }
        }
        Ok(())
    }

    /// Constrains `cell` to equal public input `row` of `column`.
    pub fn constrain_instance(&mut self, cell: Cell, column: Instance, row: usize) -> Result<(), Error> {
        self.copy(cell, Cell { column: column.column(), row })
    }

    fn set_fixed(&mut self, column: Fixed, row: usize, v: Fr) {
        let col = &mut self.synthesis.fixed[column.0];
        if col.len() <= row {
            col.resize(row + 1, Fr::zero());
        }
        col[row] = v;
        self.synthesis.rows = self.synthesis.rows.max(row + 1);
    }

    fn copy(&mut self, a: Cell, b: Cell) -> Result<(), Error> {
        for c in [a, b] {
            if !self.synthesis.cs.permutation.contains(&c.column) {
                return Err(Error::Synthesis(format!("{:?} column {} is not enabled for equality", c.column.kind, c.column.index)));
            }
        }
        self.synthesis.copies.push((a, b));
        Ok(())
    }
}

pub struct Region<'a> {
    layouter: &'a mut Layouter,
    start: usize,
    height: usize,
    name: &'a str,
}

impl Region<'_> {
    fn row(&mut self, offset: usize) -> usize {
        self.height = self.height.max(offset + 1);
        self.start + offset
    }

    pub fn assign_advice(&mut self, column: Advice, offset: usize, value: Value<Fr>) -> Result<AssignedCell, Error> {
        let row = self.row(offset);
        let s = &mut self.layouter.synthesis;
        s.rows = s.rows.max(row + 1);
        if s.with_witness {
            let v = value.into_option().ok_or_else(|| {
                Error::Synthesis(format!("region '{}': advice column {} offset {offset} has no witness value", self.name, column.0))
            })?;
            let col = &mut s.advice[column.0];
            if col.len() <= row {
                col.resize(row + 1, Fr::zero());
            }
            col[row] = v;
        }
        Ok(AssignedCell { cell: Cell { column: column.column(), row }, value })
    }

    pub fn assign_fixed(&mut self, column: Fixed, offset: usize, value: Fr) -> Cell {
        let row = self.row(offset);
        self.layouter.set_fixed(column, row, value);
        Cell { column: column.column(), row }
    }

    pub fn enable_selector(&mut self, selector: Selector, offset: usize) {
        self.assign_fixed(selector.0, offset, Fr::one());
    }

    pub fn constrain_equal(&mut self, a: Cell, b: Cell) -> Result<(), Error> {
        self.layouter.copy(a, b)
    }

    /// Assigns `cell`'s value to `column` at `offset` and constrains the two equal.
    pub fn copy_advice(&mut self, cell: &AssignedCell, column: Advice, offset: usize) -> Result<AssignedCell, Error> {
        let copy = self.assign_advice(column, offset, cell.value)?;
        self.constrain_equal(cell.cell, copy.cell)?;
        Ok(copy)
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
